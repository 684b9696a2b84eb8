export {
  CaError,
  type CaErrorCode,
  CaIntegrityError,
  CaPassphraseError,
  CaStoreError,
  CsrError,
  KeyPolicyError,
  Pkcs12FormatError,
  Pkcs12PasswordError,
  ProfileError,
  RevocationError,
} from './ca.errors.js';
export {
  type CaKeyAlgorithm,
  type CaOptions,
  CertificateAuthority,
  type CertificateProfile,
  DEFAULT_VALIDITY_DAYS,
  fingerprintSha256,
  type GeneratedKeyType,
  generateSubscriberKey,
  type IssuedCertificate,
  type IssuedServerCertificate,
  type IssuedWithKey,
  type IssueParams,
  MAX_VALIDITY_MONTHS,
  parseCsr,
  type RenewOptions,
  randomSerialHex,
  type ServerCertificateParams,
} from './ca.service.js';
export {
  type CrlOptions,
  createCrl,
  crlNumberOf,
  crlToPem,
  DEFAULT_CRL_VALIDITY_MS,
  type GeneratedCrl,
  type NormalisedRevocation,
  normaliseRevocation,
  normaliseSerialHex,
  parseCrl,
  REVOCATION_REASONS,
  type RevocationReason,
  type RevokedEntry,
} from './crl.service.js';
export { nameToSlashForm, personDn, SERVER_OU, SERVICE_OU, serviceDn, slashForm } from './dn.util.js';
export { checkSubscriberKey, type SubscriberKeyKind } from './key-policy.util.js';
export {
  DEFAULT_KDF_ITERATIONS,
  decryptPrivateKey,
  encryptPrivateKey,
  MIN_PASSPHRASE_LENGTH,
} from './key-store.util.js';
export { certificatesDer, type PemOrDer, pemOrDerToDer, toPem } from './pem.util.js';
export {
  createPkcs12,
  DEFAULT_PKCS12_ITERATIONS,
  generatePkcs12Password,
  type Pkcs12Contents,
  type Pkcs12Input,
  readPkcs12,
} from './pkcs12.util.js';
export {
  type CertificateIdentity,
  CertificateVerifier,
  identityOf,
  parseCertificateIdentity,
  parseCrls,
  type VerifierInput,
  type VerifyFailureReason,
  type VerifyOptions,
  type VerifyResult,
  verifyCertificate,
} from './verify.service.js';
