// RFC 9162 §2.1.4.2: check that a tree of `oldSize` entries with root `oldRoot` is a prefix
// of the tree of `newSize` entries with root `newRoot`, given the consistency proof the
// center served. Hashing is the browser's own Web Crypto SHA-256; nothing is trusted from
// the server but the hashes it is being held to. Roots and proof nodes are standard base64.

const EMPTY_ROOT_B64 = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="; // SHA-256("")

export function fromBase64(text) {
  const bin = atob(text);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

export function toBase64(bytes) {
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin);
}

function equal(a, b) {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}

export async function nodeHash(left, right) {
  const buf = new Uint8Array(1 + left.length + right.length);
  buf[0] = 1;
  buf.set(left, 1);
  buf.set(right, 1 + left.length);
  return new Uint8Array(await crypto.subtle.digest("SHA-256", buf));
}

export async function leafHash(data) {
  const buf = new Uint8Array(1 + data.length);
  buf[0] = 0;
  buf.set(data, 1);
  return new Uint8Array(await crypto.subtle.digest("SHA-256", buf));
}

/** Resolve to {ok: true} or {ok: false, why: "..."}; never throws on bad input. */
export async function verifyConsistency(oldSize, newSize, oldRootB64, newRootB64, proofB64) {
  try {
    const oldRoot = fromBase64(oldRootB64);
    const newRoot = fromBase64(newRootB64);
    const proof = proofB64.map(fromBase64);
    for (const h of [oldRoot, newRoot, ...proof]) {
      if (h.length !== 32) return { ok: false, why: "a hash is not 32 bytes" };
    }
    if (!Number.isSafeInteger(oldSize) || !Number.isSafeInteger(newSize) || oldSize < 0 || newSize < oldSize) {
      return { ok: false, why: `the tree shrank: ${oldSize} entries before, ${newSize} now` };
    }
    if (oldSize === newSize) {
      if (proof.length) return { ok: false, why: "equal sizes need an empty proof" };
      return equal(oldRoot, newRoot) ? { ok: true } : { ok: false, why: "two different roots for the same size" };
    }
    if (oldSize === 0) {
      if (proof.length) return { ok: false, why: "a proof from the empty tree must be empty" };
      return equal(oldRoot, fromBase64(EMPTY_ROOT_B64)) ? { ok: true } : { ok: false, why: "wrong empty root" };
    }
    if (!proof.length) return { ok: false, why: "the proof is empty" };
    const path = [...proof];
    if ((oldSize & (oldSize - 1)) === 0 && oldSize < 2 ** 31) path.unshift(oldRoot);
    // Sizes beyond 2^31 would need BigInt; a log of the center's size is far below that.
    if (newSize >= 2 ** 31) return { ok: false, why: "tree too large for this verifier" };
    let fn = oldSize - 1;
    let sn = newSize - 1;
    while (fn & 1) { fn >>>= 1; sn >>>= 1; }
    let fr = path[0];
    let sr = path[0];
    for (const c of path.slice(1)) {
      if (sn === 0) return { ok: false, why: "the proof is longer than the trees allow" };
      if ((fn & 1) || fn === sn) {
        fr = await nodeHash(c, fr);
        sr = await nodeHash(c, sr);
        if (!(fn & 1)) {
          while (fn && !(fn & 1)) { fn >>>= 1; sn >>>= 1; }
        }
      } else {
        sr = await nodeHash(sr, c);
      }
      fn >>>= 1;
      sn >>>= 1;
    }
    if (sn !== 0) return { ok: false, why: "the proof is shorter than the trees need" };
    if (!equal(fr, oldRoot)) return { ok: false, why: "the proof does not lead to the old root: the old entries changed" };
    if (!equal(sr, newRoot)) return { ok: false, why: "the proof does not lead to the new root" };
    return { ok: true };
  } catch (error) {
    return { ok: false, why: `malformed proof (${error.message})` };
  }
}

/** The root of a list of leaves (Uint8Array each), RFC 9162 MTH: for tests and checks. */
export async function rootOf(leaves) {
  if (leaves.length === 0) return new Uint8Array(await crypto.subtle.digest("SHA-256", new Uint8Array()));
  if (leaves.length === 1) return leafHash(leaves[0]);
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return nodeHash(await rootOf(leaves.slice(0, k)), await rootOf(leaves.slice(k)));
}
