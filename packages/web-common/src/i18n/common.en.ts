/** Messages the shared components use; each app spreads these into its own messages. */
export const commonEn = {
  language: {
    label: 'Language',
  },
  version: {
    label: 'Server version',
    loading: 'Connecting to the server…',
    error: 'The server cannot be reached.',
  },
  signIn: {
    title: 'Sign in with your certificate',
    intro:
      'Choose your MedGrid certificate file (PKCS#12, .p12) and enter its password. The private key stays in this browser.',
    file: 'Certificate file (.p12, .pfx)',
    password: 'Password',
    remember: 'Remember this device',
    rememberHint:
      'Keeps the key in this browser (it cannot be copied out) so you can sign in without the file.',
    submit: 'Sign in',
    working: 'Signing in…',
    rememberedAs: 'This device remembers {name}.',
    useRemembered: 'Sign in as {name}',
    forget: 'Forget this device',
    chooseFile: 'Choose your certificate file.',
    errors: {
      wrongPassword: 'The password is wrong, or the file is damaged.',
      notPkcs12: 'This file is not a PKCS#12 certificate file.',
      noKey: 'The file holds no private key or certificate.',
      unsupportedKey: 'This kind of key is not supported in the browser.',
      revoked: 'This certificate has been revoked. Ask your administrator for a new one.',
      expired: 'This certificate has expired. Ask your administrator to renew it.',
      notYetValid: 'This certificate is not valid yet.',
      untrusted: 'This certificate was not issued by the MedGrid CA.',
      notOnRecord: 'This certificate is not known to MedGrid (it may have been revoked).',
      refused: 'Sign-in was refused: {detail}',
      network: 'The server cannot be reached. Try again.',
    },
  },
  aup: {
    title: 'Acceptable-use policy, version {version}',
    acceptBy: 'Accept it by {date}, or your membership is suspended.',
    accept: 'I accept',
  },
  session: {
    ended:
      'Your session has ended (the certificate may have been revoked, or the session expired). Sign in again.',
    signedOut: 'You have signed out.',
    signOut: 'Sign out',
    signedInAs: 'Signed in as {name}',
    suspended: 'Your VO membership is suspended. Contact your VO administrator.',
    inactive: 'Your VO membership is not active.',
    aupRequired: 'Accept the acceptable-use policy (version {version}) to continue.',
  },
};

export type CommonMessages = typeof commonEn;
