/** Stable machine-readable codes so callers (GraphQL, CLI) can map errors without parsing messages. */
export type CaErrorCode =
  | 'ca-passphrase'
  | 'ca-store'
  | 'ca-integrity'
  | 'csr-invalid'
  | 'key-unsupported'
  | 'profile-invalid'
  | 'pkcs12-password'
  | 'pkcs12-invalid'
  | 'crl-invalid'
  | 'revocation-invalid';

export class CaError extends Error {
  readonly code: CaErrorCode;
  constructor(code: CaErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** Wrong passphrase for an encrypted CA key (or a key file too damaged to decrypt). */
export class CaPassphraseError extends CaError {
  constructor(message = 'wrong CA key passphrase', options?: { cause?: unknown }) {
    super('ca-passphrase', message, options);
  }
}

/** CA directory missing, incomplete, or already initialised when creating. */
export class CaStoreError extends CaError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ca-store', message, options);
  }
}

/** Stored material is inconsistent (key does not match certificate, chain broken). */
export class CaIntegrityError extends CaError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ca-integrity', message, options);
  }
}

export class CsrError extends CaError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('csr-invalid', message, options);
  }
}

export class KeyPolicyError extends CaError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('key-unsupported', message, options);
  }
}

/** Request parameters violate the certificate profile (names, validity). */
export class ProfileError extends CaError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('profile-invalid', message, options);
  }
}

export class Pkcs12PasswordError extends CaError {
  constructor(message = 'wrong PKCS#12 password', options?: { cause?: unknown }) {
    super('pkcs12-password', message, options);
  }
}

export class Pkcs12FormatError extends CaError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('pkcs12-invalid', message, options);
  }
}

export class RevocationError extends CaError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('revocation-invalid', message, options);
  }
}
