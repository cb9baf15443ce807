// Generates statement test vectors: statements (as contracts/tests/taquito.rs
// makes them in its small world) packed as Michelson strings by Taquito's
// michel-codec, unpacked again by it, and signed by Taquito's InMemorySigner
// with the key of the account each statement names, on all three curves.
// Every signature is checked with @taquito/utils' verifySignature and every
// unpacking must give back the text before anything is printed; the script
// exits non-zero otherwise.
//
//   npm ci && node statements.mjs > ../../contracts/tests/vectors/taquito_statements.json

import { createRequire } from 'node:module';
import { check, printIfAllPassed } from './checks.mjs';
import { packDataBytes, unpackDataBytes } from '@taquito/michel-codec';
import { InMemorySigner } from '@taquito/signer';
import { verifySignature } from '@taquito/utils';

const require = createRequire(import.meta.url);
const codecPkg = require('@taquito/michel-codec/package.json');
const signerPkg = require('@taquito/signer/package.json');

// The world's accounts 2 (P-256), 1 (secp256k1) and 0 (ed25519), and the
// statement each signs.
const STATEMENTS = [
  [
    'p2sk2NE3m1S3swPm72pCYdcoAbqQww1uS2J12pQ8FMLPFx382kUnmr',
    String.raw`Tezos Signed Message: pledgeroll sr1EH5y7f1TswRTY29fZBo62PBRgn7aypSMn nonce 0 tz3XeebPqsRuaHzRETssV3SvAFwWTbcyzdCf: pledge 5 tez per month to tz1ZmZUifjvPTGwqPL88nSuorUEoFaDH4Uo8 for tier 0 "supporter", until 2027-03-01T00:00:00Z, at most 60 tez in all`,
  ],
  [
    'spsk1SZNzeLUpUtoTWbtcr6iBdYfeiTiVed8o3auAG2kuBkubABuZS',
    String.raw`Tezos Signed Message: pledgeroll sr1EH5y7f1TswRTY29fZBo62PBRgn7aypSMn nonce 0 tz2LPqB72GE5BvhYrP1DHSbM5jTkWitVmnVK: tip 1.25 tez to tz1ZmZUifjvPTGwqPL88nSuorUEoFaDH4Uo8 with the memo "merci \u{00ab} caf\u{00e9} \u{00bb} \"ok\" \\ \u{6771}\u{4eac}"`,
  ],
  [
    'edsk2gTS9rr1iwMFxYi9EbHzxdt2T3mCjfNkgU4LQvTKajYie8Yumk',
    String.raw`Tezos Signed Message: pledgeroll sr1EH5y7f1TswRTY29fZBo62PBRgn7aypSMn nonce 2 tz1ZmZUifjvPTGwqPL88nSuorUEoFaDH4Uo8: create the public project "Better docs" with the description of 270 bytes with blake2b-256 5cc63343462cfb52178e829b22ddc360d389b123ea2008f48742210b56b62f39, link "https://example.org/manual", commissioners tz1ZmZUifjvPTGwqPL88nSuorUEoFaDH4Uo8 tz2LPqB72GE5BvhYrP1DHSbM5jTkWitVmnVK, 2 of them to pay an invoice, the default time-lock, refunds open after 2027-03-01T00:00:00Z`,
  ],
];

const vectors = [];
for (const [sk, text] of STATEMENTS) {
  const signer = new InMemorySigner(sk);
  const publicKey = await signer.publicKey();
  const address = await signer.publicKeyHash();
  check(text.includes(` ${address}: `), `${sk}: the statement names another signer than ${address}`);
  const bytes = packDataBytes({ string: text }).bytes;
  check(bytes.startsWith('0501'), `${sk}: not a packed string`);
  const unpacked = unpackDataBytes({ bytes });
  check(unpacked.string === text, `${sk}: unpacking gave ${JSON.stringify(unpacked)}`);
  const res = await signer.sign(bytes);
  check(res.bytes === bytes, `${sk}: Taquito echoed different bytes`);
  check(verifySignature(bytes, publicKey, res.prefixSig), `${sk}: prefixSig rejected`);
  check(verifySignature(bytes, publicKey, res.sig), `${sk}: generic sig rejected`);
  vectors.push({
    secret_key: sk,
    public_key: publicKey,
    address,
    text,
    bytes,
    unpacked: unpacked.string,
    signature: res.prefixSig,
    generic_signature: res.sig,
  });
}

printIfAllPassed({ generator: `@taquito/signer@${signerPkg.version} @taquito/michel-codec@${codecPkg.version}`, vectors });
