"""64-bit hashing primitives of the canonical encoding: the splitmix64 mixer, kind seeds, and string hashing.

Part of the lockfile contract (see ``reprotrack.core.fingerprint.canonical``): changing anything here changes fingerprints.

* ``mix`` / ``mix_int``: the splitmix64 finaliser (xor-shift 30/27/31, multipliers 0xbf58476d1ce4e5b9 and
  0x94d049bb133111eb), a bijection of 64-bit integers, on arrays (in place) and on Python ints.
* ``seed(kind)``: xxh3-64 of ``"reprotrack-kind:" + kind``.
* Strings and bytes: ``P = sum(b[k] * R**k) mod 2**64`` over the bytes (``R = POLY_R``, odd), finished as
  ``mix((P + len * POLY_L) ^ seed(kind))``. For millions of strings this is computed from one NUL-joined
  buffer: when every string has the same length, one multiply-add per byte column; otherwise products with
  a table of powers of R summed per string (``np.add.reduceat``) and brought back to R**0 by the inverse
  powers. No Python call per string. 64-bit, non-cryptographic: fine for data, not for adversaries.
* ``segment_hashes``: the same hashes straight from a bytes buffer and per-string starts and lengths (an
  Arrow string column's data and offsets, or a joined buffer; starts ascending): equal-width strings up to
  ``MATRIX_MAX`` bytes back to back are the buffer itself seen as a byte matrix; all others go by blocks of
  ``MAX_BLOCK`` bytes (small enough that the products stay in cache: 2-4x faster than larger blocks or
  padded words, measured on 2M strings of 1-200 bytes). No Python call per string.

Pure: numpy and xxhash only, no I/O.
"""

from __future__ import annotations

import numpy as np
import xxhash

U64 = np.uint64
MASK = (1 << 64) - 1
_M1, _M2 = U64(0xBF58476D1CE4E5B9), U64(0x94D049BB133111EB)
GOLDEN = 0x9E3779B97F4A7C15
POLY_R = 0x5BD1E9955BD1E995 | 3  # odd, == 3 mod 4: (R - 1) has a single factor 2
POLY_L = 0xC2B2AE3D27D4EB4F
NULL = 0x6E756C6C6E756C6C  # "nullnull": the one hash of every null
MAX_BLOCK = 1 << 17  # bytes per vector step of the variable-length path: its products stay in cache
CUMSUM_BELOW = 24  # mean bytes per string under which a block's per-string sums come from a running sum
MATRIX_MAX = 32  # equal-width strings up to this many bytes are hashed as a byte matrix (beyond: by segments)
STR_BATCH = 1 << 16  # strings joined at once (bounds the joined buffer)


def mix_int(x: int) -> int:
    """The scalar splitmix64 finaliser, identical to ``mix`` on arrays."""
    x &= MASK
    x ^= x >> 30
    x = (x * 0xBF58476D1CE4E5B9) & MASK
    x ^= x >> 27
    x = (x * 0x94D049BB133111EB) & MASK
    return x ^ (x >> 31)


def mix(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser on a uint64 array, in place (returns it)."""
    t = x >> U64(30)
    x ^= t
    x *= _M1
    np.right_shift(x, U64(27), out=t)
    x ^= t
    x *= _M2
    np.right_shift(x, U64(31), out=t)
    x ^= t
    return x


def _seed(name: str) -> int:
    return xxhash.xxh3_64_intdigest(("reprotrack-kind:" + name).encode())


SEEDS = {k: _seed(k) for k in ("float", "int", "uint", "bool", "complex", "datetime", "timedelta", "str", "bytes",
                               "decimal", "fraction", "object", "container", "bigint")}


def seed(kind: str) -> int:
    s = SEEDS.get(kind)
    return s if s is not None else _seed(kind)


def column_key(j: int) -> int:
    """Odd per-position multiplier used to combine column hashes into a row hash."""
    return mix_int(j + 1 + GOLDEN) | 1


class _Powers:
    """Tables of R**k and R**-k mod 2**64, grown on demand up to MAX_BLOCK + 1 entries (2 x 32 MB)."""

    def __init__(self) -> None:
        self.fwd = np.ones(1, dtype=U64)
        self.inv = np.ones(1, dtype=U64)

    def get(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        if len(self.fwd) < n:
            size = max(n, 2 * len(self.fwd), 4096)
            self.fwd = np.concatenate([np.ones(1, dtype=U64), np.cumprod(np.full(size - 1, POLY_R, dtype=U64))])
            rinv = pow(POLY_R, -1, 1 << 64)
            self.inv = np.concatenate([np.ones(1, dtype=U64), np.cumprod(np.full(size - 1, rinv, dtype=U64))])
        return self.fwd, self.inv


POWERS = _Powers()


def poly_one(b: bytes) -> int:
    """Polynomial hash of one byte string (blockwise for long ones); equals the vectorised versions."""
    total, scale = 0, 1
    r_block = pow(POLY_R, MAX_BLOCK, 1 << 64)
    for off in range(0, len(b), MAX_BLOCK):
        block = np.frombuffer(b, dtype=np.uint8, count=min(MAX_BLOCK, len(b) - off), offset=off)
        fwd, _ = POWERS.get(len(block))
        part = int(np.sum(block * fwd[: len(block)], dtype=U64))
        total = (total + part * scale) & MASK
        scale = (scale * r_block) & MASK
    return total


def finish_poly(poly: np.ndarray, lengths: np.ndarray, kind: str) -> np.ndarray:
    poly += lengths.astype(U64) * U64(POLY_L)
    poly ^= U64(seed(kind))
    return mix(poly)


def bytes_scalar_hash(b: bytes, kind: str) -> int:
    return mix_int(((poly_one(b) + len(b) * POLY_L) & MASK) ^ seed(kind))


def _segments(b: np.ndarray, starts: np.ndarray, lens: np.ndarray) -> np.ndarray:
    """Raw polynomials of the segments [starts, starts + lens) of a buffer, ``starts`` ascending and nothing
    but zero bytes between the segments (Arrow offsets; a joined buffer's NUL separators: a zero byte adds
    nothing to a polynomial). Block by block (<= MAX_BLOCK bytes, so the products stay in cache): each byte
    times R**(its place in the block), summed per string, brought back to R**0 by the inverse power of the
    string's place. The sums: short strings (under ``CUMSUM_BELOW`` bytes on average in the block) as
    differences of one running sum, whose cost does not grow with the number of strings; longer ones by
    ``np.add.reduceat``, whose cost does (~28 ns a string) but reads each product once."""
    n = len(starts)
    poly = np.zeros(n, dtype=U64)
    if not n:
        return poly
    ends = starts + lens
    empties = bool((lens == 0).any())
    fwd, inv = POWERS.get(MAX_BLOCK + 1)
    buf = np.zeros(MAX_BLOCK + 1, dtype=U64)  # buf[0] stays 0: the running sum before the block's first byte
    i = 0
    while i < n:
        base = int(starts[i])
        j = int(np.searchsorted(ends, base + MAX_BLOCK, side="right"))  # the strings that end in this block
        if j <= i:  # one string longer than a block
            poly[i] = poly_one(b[base: int(ends[i])].tobytes())
            i += 1
            continue
        end = int(ends[j - 1])
        prod = buf[1: end - base + 1]
        np.multiply(b[base:end], fwd[: end - base], out=prod)
        rel = starts[i:j] - base
        if end - base < CUMSUM_BELOW * (j - i):  # the sum up to a string's end less the sum up to its start
            np.cumsum(prod, out=prod)
            seg = buf.take(ends[i:j] - base)
            seg -= buf.take(rel)
            seg *= inv.take(rel)
            poly[i:j] = seg
        elif empties:  # an empty string owns no bytes (and stays 0); from one non-empty start to the next
            full = np.flatnonzero(lens[i:j] > 0)
            if len(full):
                seg = np.add.reduceat(prod, rel[full])
                seg *= inv.take(rel[full])
                poly[i + full] = seg
        else:
            seg = np.add.reduceat(prod, rel)
            seg *= inv.take(rel)
            poly[i:j] = seg
        i = j
    return poly


def _matrix_poly(m: np.ndarray, rows: int = 1 << 16) -> np.ndarray:
    """Raw polynomials of the rows of an (n, L) uint8 matrix (any strides), in row blocks that keep the running
    sums in cache. A byte column that holds one value over the whole block (the prefix of ``user-0000123``,
    the dashes of a date, leading zeros) adds one constant to every row; the other columns go by Horner's rule
    from the last to the first (one in-place multiply and add each, by R to the power of the gap between
    them), with no table of powers and no temporary."""
    n, width = m.shape
    poly = np.zeros(n, dtype=U64)
    if not width:
        return poly
    for lo in range(0, n, rows):
        block, out = m[lo: lo + rows], poly[lo: lo + rows]
        first = block[0]
        same = np.flatnonzero((block[:64] == first).all(axis=0))  # a few rows say which columns may be constant
        constant = np.zeros(width, dtype=bool)
        if len(same):
            sub = block[:, same]
            constant[same[sub.min(axis=0) == sub.max(axis=0)]] = True
        offset = 0
        for k in np.flatnonzero(constant).tolist():
            offset = (offset + int(first[k]) * pow(POLY_R, k, 1 << 64)) & MASK
        varying = np.flatnonzero(~constant).tolist()
        if varying:
            top = varying[-1]
            out += block[:, top]
            for k in reversed(varying[:-1]):
                out *= U64(pow(POLY_R, top - k, 1 << 64))
                out += block[:, k]
                top = k
            if top:
                out *= U64(pow(POLY_R, top, 1 << 64))
        if offset:
            out += U64(offset)
    return poly


def segment_polys(b: np.ndarray, starts: np.ndarray, lens: np.ndarray, packed: bool = False) -> np.ndarray:
    """Raw polynomials of the segments [starts, starts + lens) of a uint8 buffer, ``starts`` ascending, with
    no per-string Python call. ``packed``: the caller knows that only zero bytes lie between the segments
    (Arrow offsets, a NUL-joined buffer); otherwise segments with foreign bytes between them are first
    copied back to back."""
    n = len(starts)
    poly = np.zeros(n, dtype=U64)
    if not n:
        return poly
    top = int(lens.max())
    if top == 0:
        return poly
    if int(lens.min()) == top and top <= MATRIX_MAX and (n == 1 or bool((np.diff(starts) == top).all())):
        first = int(starts[0])  # equal widths, back to back (an Arrow column of ids): the buffer is the matrix
        return _matrix_poly(b[first: first + n * top].reshape(n, top))
    if not packed and n > 1 and not np.array_equal(starts[1:], starts[:-1] + lens[:-1]):
        return _segments(*_compact(b, starts, lens))
    return _segments(b, starts, lens)


def _compact(b: np.ndarray, starts: np.ndarray, lens: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The segments copied back to back (``_segments`` sums from one start to the next: no foreign bytes
    may sit between them)."""
    new_starts = np.zeros(len(starts), dtype=np.int64)
    np.cumsum(lens[:-1], out=new_starts[1:])
    src = np.arange(int(lens.sum()), dtype=np.int64)
    src += np.repeat(starts.astype(np.int64) - new_starts, lens)
    return b[src], new_starts, lens


def segment_hashes(b: np.ndarray, starts: np.ndarray, lens: np.ndarray, kind: str,
                   packed: bool = False) -> np.ndarray:
    """Finished hashes (``kind``: "str" or "bytes") of the segments of a uint8 buffer (``packed``: as for
    ``segment_polys``)."""
    return finish_poly(segment_polys(b, starts, lens, packed), lens, kind)


def hash_byte_strings(parts: list[bytes], kind: str) -> np.ndarray:
    """Hashes of byte strings (any content, NULs included)."""
    if not parts:
        return np.zeros(0, dtype=U64)
    lens = np.fromiter(map(len, parts), dtype=np.int64, count=len(parts))
    starts = np.zeros(len(parts), dtype=np.int64)
    np.cumsum(lens[:-1], out=starts[1:])
    b = np.frombuffer(b"".join(parts), dtype=np.uint8)
    return segment_hashes(b, starts, lens, kind, packed=True)  # joined back to back


class Joined:
    """A non-empty batch of strings as one buffer, their UTF-8 separated by single NULs, and where each string
    lies in it: the one pass over a batch that its per-value hashes and its content stream are both cut from.
    TypeError if an item is not a str.

    No NUL after the last string: appending one would copy the whole joined text once more. A batch whose
    strings all have the same number of bytes is a (rows, width) byte matrix seen in place (row stride
    width + 1), the layout of fixed-width ids; its content stream is that matrix copied row by row in C."""

    def __init__(self, values: list[str]) -> None:
        self.n = n = len(values)
        self.values = values
        self.buf = "\x00".join(values).encode("utf-8", "surrogatepass")
        self.b = b = np.frombuffer(self.buf, dtype=np.uint8)
        self.width: int | None = None  # every string this many bytes
        self.starts: np.ndarray | None = None
        self.lens: np.ndarray | None = None
        #: a string holds NUL characters: the separators do not say where strings end
        self.nul_inside = len(b) - np.count_nonzero(b) != n - 1
        if self.nul_inside:
            self.lens = np.fromiter((len(v.encode("utf-8", "surrogatepass")) for v in values), dtype=np.int64,
                                    count=n)
            return
        width = self.buf.find(0)
        width = len(b) if width < 0 else width  # one string: no separator
        if len(b) == n * (width + 1) - 1 and not b[width:: width + 1].any():
            self.width = width
            return
        seps = np.flatnonzero(b == 0)
        self.starts = np.empty(n, dtype=np.int64)
        self.starts[0] = 0
        self.starts[1:] = seps + 1
        self.lens = np.empty(n, dtype=np.int64)
        self.lens[:-1] = seps - self.starts[:-1]
        self.lens[-1] = len(b) - self.starts[-1]

    def lengths(self) -> np.ndarray:
        """Each string's UTF-8 length."""
        return np.full(self.n, self.width, dtype=np.int64) if self.width is not None else self.lens

    def segments(self) -> tuple[np.ndarray, np.ndarray]:
        """Each string's start and length in ``b`` (not for a batch with NULs inside)."""
        if self.width is not None:
            return np.arange(self.n, dtype=np.int64) * (self.width + 1), self.lengths()
        return self.starts, self.lens

    def matrix(self) -> np.ndarray:
        """The (n, width) bytes of a fixed-width batch, in place (rows ``width + 1`` bytes apart)."""
        assert self.width is not None
        return np.ndarray(shape=(self.n, self.width), dtype=np.uint8, buffer=self.buf, strides=(self.width + 1, 1))

    def data(self) -> np.ndarray:
        """The strings' UTF-8 back to back (the content's data stream): a fixed-width batch is copied out of
        the joined buffer one row per ``memcpy`` (its rows seen as ``V<width>`` items); otherwise the strings
        are joined once more with no separator, cheaper than cutting the separators out."""
        if self.width is not None:
            if not self.width:
                return np.zeros(0, dtype=np.uint8)
            rows = np.ndarray(shape=(self.n,), dtype=f"V{self.width}", buffer=self.buf, strides=(self.width + 1,))
            return np.ascontiguousarray(rows).view(np.uint8)
        return np.frombuffer("".join(self.values).encode("utf-8", "surrogatepass"), dtype=np.uint8)


def _str_batch(values: list[str], joined: Joined | None = None) -> np.ndarray:
    if joined is None:
        joined = Joined(values)
    if joined.nul_inside:
        return hash_byte_strings([v.encode("utf-8", "surrogatepass") for v in values], "str")
    n, width = joined.n, joined.width
    if width is not None and width <= MATRIX_MAX:
        return finish_poly(_matrix_poly(joined.matrix()), np.full(n, width, dtype=np.int64), "str")
    starts, lens = joined.segments()
    return segment_hashes(joined.b, starts, lens, "str", packed=True)  # NUL separators


def joined_hashes(values: list[str], joined: Joined) -> np.ndarray:
    """Hashes of a batch of at most ``STR_BATCH`` strings, from their ``Joined`` buffer."""
    return _str_batch(values, joined) if values else np.zeros(0, dtype=U64)


def str_hashes(values: list[str]) -> np.ndarray:
    """Hashes of a list of str (raises TypeError if an item is not a str)."""
    if len(values) <= STR_BATCH:
        return _str_batch(values) if values else np.zeros(0, dtype=U64)
    out = np.empty(len(values), dtype=U64)
    for lo in range(0, len(values), STR_BATCH):
        out[lo: lo + STR_BATCH] = _str_batch(values[lo: lo + STR_BATCH])
    return out


def bytes_hashes(values: list[bytes]) -> np.ndarray:
    return hash_byte_strings([bytes(v) for v in values], "bytes")
