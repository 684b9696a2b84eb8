// Must be the first import of every module that uses @peculiar/x509 or pkijs: x509 needs Reflect metadata at load.
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import * as pkijs from 'pkijs';

// The server compiles without DOM typings, so the WebCrypto types are taken from the library signatures.
export type X509Crypto = NonNullable<Parameters<typeof x509.X509CertificateGenerator.create>[1]>;
export type X509CryptoKey = x509.X509CertificateCreateWithKeyParams['signingKey'];
export type X509SigningAlgorithm = NonNullable<x509.X509CertificateCreateParamsBase['signingAlgorithm']>;

export const nodeCrypto = webcrypto as unknown as X509Crypto;

x509.cryptoProvider.set(nodeCrypto);
pkijs.setEngine(
  'node',
  new pkijs.CryptoEngine({
    name: 'node',
    crypto: nodeCrypto as unknown as pkijs.CryptoEngineParameters['crypto'],
  }),
);
