// Generates signature test vectors with Taquito's InMemorySigner and prints
// them as JSON on stdout. Every vector is checked with @taquito/utils'
// verifySignature before anything is printed; the script exits non-zero if
// any check fails.
//
//   npm ci && node generate.mjs > ../../contracts/tests/vectors/taquito_signatures.json

import { createRequire } from 'node:module';
import { check, printIfAllPassed } from './checks.mjs';
import { InMemorySigner } from '@taquito/signer';
import { b58Encode, buf2hex, PrefixV2, verifySignature } from '@taquito/utils';

const require = createRequire(import.meta.url);
const signerPkg = require('@taquito/signer/package.json');

// The five well-known Octez sandbox bootstrap accounts, with the addresses
// they are known to have.
const BOOTSTRAP = [
  ['edsk3gUfUPyBSfrS9CCgmCiQsTCHGkviBDusMxDJstFtojtc1zcpsh', 'tz1KqTpEZ7Yob7QbPE4Hy4Wo8fHG8LhKxZSx'],
  ['edsk39qAm1fiMjgmPkw1EgQYkMzkJezLNewd7PLNHTkr6w9XA2zdfo', 'tz1gjaF81ZRRvdzjobyfVNsAeSC6PScjfQwN'],
  ['edsk4ArLQgBTLWG5FJmnGnT689VKoqhXwmDPBuGx3z4cvwU9MmrPZZ', 'tz1faswCTDciRzE4oJ9jn2Vm2dvjeyA9fUzU'],
  ['edsk2uqQB9AY4FvioK2YMdfmyMrer5R8mGFyuaLLFfSRo8EoyNdht3', 'tz1b7tUupMgCNw2cCLpKTkSD1NZzB5TkP2sv'],
  ['edsk4QLrcijEffxV31gGdN2HU7UpyJjA8drFoNcmnB28n89YjPNRFm', 'tz1ddb9NMYHZi5UzPdzTZMYQQZoMub195zgv'],
];

// Fixed test-only keys (never use for anything real):
//   secp256k1: secret bytes 0x01, 0x02, ..., 0x20
//   P-256:     secret bytes 0x21, 0x22, ..., 0x40
const SECP256K1_SK = 'spsk1S1Ree7gaspotLbU2WkEvqCHZ1R6Gh5raPeJhJzH5KAxvEEuSB';
const P256_SK = 'p2sk2bP9q3te2MGuR7PBBcTfSYPxKRzomh1YsodgWMmwtT8CXdVJfB';

const range = (n, f) => Uint8Array.from({ length: n }, (_, i) => f(i));

// The hard-coded EC keys must be exactly what their documented secrets encode to.
check(
  b58Encode(range(32, (i) => i + 0x01), PrefixV2.Secp256k1SecretKey) === SECP256K1_SK,
  'SECP256K1_SK does not encode secret 0x01..0x20',
);
check(
  b58Encode(range(32, (i) => i + 0x21), PrefixV2.P256SecretKey) === P256_SK,
  'P256_SK does not encode secret 0x21..0x40',
);

// A packed Michelson bytes value: 0x05 0x0a <u32 big-endian length> <payload>.
function packBytes(payload) {
  const out = new Uint8Array(6 + payload.length);
  out[0] = 0x05;
  out[1] = 0x0a;
  new DataView(out.buffer).setUint32(2, payload.length, false);
  out.set(payload, 6);
  return out;
}

const PAYLOADS = [
  // (a) "pledgeroll" ++ 20 x 0x11 ++ 0..29
  Uint8Array.from([
    ...new TextEncoder().encode('pledgeroll'),
    ...range(20, () => 0x11),
    ...range(30, (i) => i),
  ]),
  // (b) empty
  new Uint8Array(0),
  // (c) 300 bytes of i*7 mod 256
  range(300, (i) => (i * 7) % 256),
];
const MESSAGES = PAYLOADS.map((p) => buf2hex(packBytes(p)));

function safeVerify(bytes, pk, sig) {
  try {
    return verifySignature(bytes, pk, sig);
  } catch (err) {
    console.error(`verifySignature threw: ${err}`);
    return false;
  }
}

const keys = [
  ...BOOTSTRAP.map(([sk, address]) => ({ sk, expectedAddress: address })),
  { sk: SECP256K1_SK },
  { sk: P256_SK },
];

const vectors = [];
for (const { sk, expectedAddress } of keys) {
  const signer = new InMemorySigner(sk);
  const publicKey = await signer.publicKey();
  const address = await signer.publicKeyHash();
  if (expectedAddress !== undefined) {
    check(address === expectedAddress, `${sk}: address ${address} != ${expectedAddress}`);
  }
  for (const bytes of MESSAGES) {
    const res = await signer.sign(bytes);
    check(res.bytes === bytes, `${sk}: Taquito echoed different bytes`);
    check(safeVerify(bytes, publicKey, res.prefixSig), `${sk}: prefixSig rejected for ${bytes.slice(0, 16)}...`);
    check(safeVerify(bytes, publicKey, res.sig), `${sk}: generic sig rejected for ${bytes.slice(0, 16)}...`);
    // Sanity: a flipped last byte must not verify.
    const last = parseInt(bytes.slice(-2), 16) ^ 0x01;
    const tampered = bytes.slice(0, -2) + last.toString(16).padStart(2, '0');
    check(!safeVerify(tampered, publicKey, res.prefixSig), `${sk}: tampered message still verifies`);
    vectors.push({
      secret_key: sk,
      public_key: publicKey,
      address,
      bytes,
      signature: res.prefixSig,
      generic_signature: res.sig,
    });
  }
}

const output = {
  generator: `${signerPkg.name}@${signerPkg.version}`,
  vectors,
};
printIfAllPassed(output);
