// Generates Octez encrypted secret key vectors (`encrypted:edesk…`,
// `spesk…`, `p2esk…`): each fixed test key is encrypted as octez-client
// does (PBKDF2-HMAC-SHA512, 32,768 rounds, over an 8-byte salt; NaCl
// secretbox with a zero nonce), then Taquito's InMemorySigner must decrypt
// it with the passphrase to the same secret key and address before
// anything is printed; the script exits non-zero otherwise.
//
//   npm ci && node encrypted.mjs > ../../contracts/tests/vectors/octez_encrypted_keys.json

import { createRequire } from 'node:module';
import { check, printIfAllPassed } from './checks.mjs';
import { secretBox } from '@stablelib/nacl';
import { InMemorySigner } from '@taquito/signer';
import { b58DecodeAndCheckPrefix, b58Encode, PrefixV2 } from '@taquito/utils';

const require = createRequire(import.meta.url);
const pbkdf2 = require('pbkdf2');
const signerPkg = require('@taquito/signer/package.json');

const PASSPHRASE = 'correct horse battery staple';

// Test-only keys (never use for anything real), their encrypted prefix and
// a fixed salt each.
const KEYS = [
  ['edsk3gUfUPyBSfrS9CCgmCiQsTCHGkviBDusMxDJstFtojtc1zcpsh', PrefixV2.Ed25519Seed, PrefixV2.Ed25519EncryptedSeed, 1],
  ['spsk1S1Ree7gaspotLbU2WkEvqCHZ1R6Gh5raPeJhJzH5KAxvEEuSB', PrefixV2.Secp256k1SecretKey, PrefixV2.Secp256k1EncryptedSecretKey, 2],
  ['p2sk2bP9q3te2MGuR7PBBcTfSYPxKRzomh1YsodgWMmwtT8CXdVJfB', PrefixV2.P256SecretKey, PrefixV2.P256EncryptedSecretKey, 3],
];

const vectors = [];
for (const [sk, plainPrefix, encryptedPrefix, seed] of KEYS) {
  const [secret] = b58DecodeAndCheckPrefix(sk, [plainPrefix]);
  const salt = Uint8Array.from({ length: 8 }, (_, i) => seed * 16 + i);
  const key = new Uint8Array(pbkdf2.pbkdf2Sync(PASSPHRASE, salt, 32768, 32, 'sha512'));
  const sealed = secretBox(key, new Uint8Array(24), secret);
  const encrypted = `encrypted:${b58Encode(Uint8Array.from([...salt, ...sealed]), encryptedPrefix)}`;

  const plain = new InMemorySigner(sk);
  const opened = await InMemorySigner.fromSecretKey(encrypted.slice('encrypted:'.length), PASSPHRASE);
  check((await opened.secretKey()) === (await plain.secretKey()), `${sk}: Taquito decrypts another key`);
  check((await opened.publicKeyHash()) === (await plain.publicKeyHash()), `${sk}: another address`);
  vectors.push({
    encrypted,
    passphrase: PASSPHRASE,
    secret_key: sk,
    address: await plain.publicKeyHash(),
  });
}

printIfAllPassed({ generator: `@taquito/signer@${signerPkg.version}`, vectors });
