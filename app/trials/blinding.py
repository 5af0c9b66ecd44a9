"""Keeping the allocation blind (SPEC §14): drawn at set-up, sealed, opened only by the code.

What is stored, and who can open it:

- The allocation is one bit per pair (LDN first or placebo first). It is sealed with a key
  derived by scrypt from the **unblinding code**, a random 60-bit code that is printed on the
  pharmacy sheet and stored nowhere: sealed = bits XOR (a pseudo-random mask from the key), plus
  a check value from an independent half of the key that tells a right code from a wrong one.
  The mask is uniform and independent of the bits, so the sealed bytes say nothing about the
  allocation; opening them without the code means trying 2^60 codes through scrypt.
- The server, a database dump and a JSON backup hold only (salt, sealed, check): none of them
  can unblind. The patient unblinds by typing the code the pharmacist gives back.
- Until the first period starts the pharmacy sheet can be printed again (a printer jams), so the
  code is also kept *wrapped* with a key derived from the app's SECRET_KEY, in a column that no
  export or backup carries. It is erased when the trial is sealed (the patient says the sheet is
  with the pharmacy, or any change to the trial once the first period has begun), and the
  sheet is refused from the first period's day on whatever the column holds.

Pure: no I/O; randomness comes from the `secrets` module or a caller's generator.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Final

# Crockford's base 32: no I, L, O or U, so a code read aloud or copied by hand survives.
CODE_ALPHABET: Final = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH: Final = 12  # 60 bits
# scrypt at 16 MiB and about 50 ms: each guess at an unknown code costs that much.
_SCRYPT = {"n": 2**14, "r": 8, "p": 1, "maxmem": 64 * 2**20}
_SALT_BYTES: Final = 16


class WrongCode(ValueError):
    """The unblinding code does not open this trial's allocation."""


@dataclass(frozen=True)
class SealedAllocation:
    """What is stored of the allocation: nothing in it can be read without the code."""

    salt: str  # hex
    sealed: str  # hex, one byte per pair
    check: str  # hex


def new_code() -> str:
    """A fresh random unblinding code, grouped for reading: 'K3F7-9QAD-2M4X'."""
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    return format_code(raw)


def format_code(code: str) -> str:
    """The code in groups of four, as printed."""
    plain = normalise_code(code)
    return "-".join(plain[i : i + 4] for i in range(0, len(plain), 4))


def normalise_code(code: str) -> str:
    """The code as typed, made canonical: capitals, no spaces or dashes, O→0, I/L→1."""
    cleaned = "".join(ch for ch in code.upper() if not ch.isspace() and ch not in "-–—_.")
    return cleaned.translate(str.maketrans("OIL", "011"))


def code_problem(code: str) -> str | None:
    """Why a typed code cannot be one of ours, in plain words; None when it could be."""
    plain = normalise_code(code)
    if len(plain) != CODE_LENGTH or any(ch not in CODE_ALPHABET for ch in plain):
        return (
            f"The code has {CODE_LENGTH} letters and digits, like K3F7-9QAD-2M4X; "
            "copy it from the pharmacy sheet."
        )
    return None


def _key(code: str, salt: bytes) -> bytes:
    return hashlib.scrypt(normalise_code(code).encode(), salt=salt, dklen=64, **_SCRYPT)


def _mask(key: bytes, length: int) -> bytes:
    # HMAC-SHA256 in counter mode: as many pseudo-random bytes as there are pairs.
    out = b""
    counter = 0
    while len(out) < length:
        out += hmac.new(key[:32], b"mask" + counter.to_bytes(4, "big"), "sha256").digest()
        counter += 1
    return out[:length]


def seal(ldn_first: tuple[bool, ...], code: str, *, salt: bytes | None = None) -> SealedAllocation:
    """The allocation sealed under `code`."""
    salt = salt if salt is not None else secrets.token_bytes(_SALT_BYTES)
    key = _key(code, salt)
    mask = _mask(key, len(ldn_first))
    sealed = bytes(int(bit) ^ m for bit, m in zip(ldn_first, mask, strict=True))
    check = hmac.new(key[32:], b"check", "sha256").hexdigest()
    return SealedAllocation(salt=salt.hex(), sealed=sealed.hex(), check=check)


def unseal(stored: SealedAllocation, code: str) -> tuple[bool, ...]:
    """The allocation, given the right code; WrongCode otherwise."""
    key = _key(code, bytes.fromhex(stored.salt))
    check = hmac.new(key[32:], b"check", "sha256").hexdigest()
    if not hmac.compare_digest(check, stored.check):
        raise WrongCode("That code does not open this trial. Check it against the pharmacy sheet.")
    sealed = bytes.fromhex(stored.sealed)
    mask = _mask(key, len(sealed))
    bits = [s ^ m for s, m in zip(sealed, mask, strict=True)]
    if any(bit not in (0, 1) for bit in bits):
        raise WrongCode("The stored allocation is damaged and cannot be opened.")
    return tuple(bit == 1 for bit in bits)


def _wrapping_mask(secret_key: str, salt: str, length: int) -> bytes:
    key = hashlib.sha256(("self-trial sheet|" + secret_key + "|" + salt).encode()).digest()
    return _mask(key + key, length)


def wrap_code(code: str, *, secret_key: str, salt: str) -> str:
    """The code wrapped with the app's secret, for reprinting the sheet before the start."""
    plain = normalise_code(code).encode()
    mask = _wrapping_mask(secret_key, salt, len(plain))
    return bytes(a ^ b for a, b in zip(plain, mask, strict=True)).hex()


def unwrap_code(wrapped: str, *, secret_key: str, salt: str) -> str:
    """The code back from `wrap_code`."""
    raw = bytes.fromhex(wrapped)
    mask = _wrapping_mask(secret_key, salt, len(raw))
    return format_code(bytes(a ^ b for a, b in zip(raw, mask, strict=True)).decode())
