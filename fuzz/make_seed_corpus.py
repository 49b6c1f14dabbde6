#!/usr/bin/env python3
"""Writes the small seed corpora in fuzz/corpus/<target>/ (committed; rerun to regenerate).

Each seed is a valid input or a near miss, so the fuzzer starts inside the format."""
import gzip
import json
import pathlib
import struct

ROOT = pathlib.Path(__file__).resolve().parent / "corpus"


def write(target, name, data):
    folder = ROOT / target
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))


def safetensors(tensors, metadata=None):
    """tensors: list of (name, shape, floats), packed in order as the reference writer does."""
    header, data, offset = {}, b"", 0
    if metadata:
        header["__metadata__"] = metadata
    for name, shape, values in tensors:
        raw = struct.pack("<%df" % len(values), *values)
        header[name] = {"dtype": "F32", "shape": shape, "data_offsets": [offset, offset + len(raw)]}
        data += raw
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    return struct.pack("<Q", len(text)) + text + data


write("safetensors", "two_tensors", safetensors(
    [("w", [2, 3], [0.5 * i for i in range(6)]), ("b", [3], [1.0, -2.0, 3.5])], {"step": "7"}))
write("safetensors", "scalar_and_empty", safetensors([("s", [], [4.0]), ("e", [0, 5], [])]))
write("safetensors", "checkpoint_like", safetensors(
    [("tok.weight", [4, 2], [0.1] * 8), ("blocks.0.attn.multimax.t", [4], [0.0, 0.1, -0.1, 0.2])],
    {"config": json.dumps({"d_model": 2, "layers": 1}), "mmx.step": "12"}))
write("safetensors", "no_tensors", safetensors([]))
# Near misses: a header that claims a 1 TB tensor, and a header length past the file's end.
huge = b'{"x":{"dtype":"F32","shape":[262144,1048576],"data_offsets":[0,1099511627776]}}'
write("safetensors", "claims_1tb", struct.pack("<Q", len(huge)) + huge)
write("safetensors", "header_past_end", struct.pack("<Q", 1 << 40) + b"{}")
# 60,000 levels of '[' where a shape, an offset and a metadata value go: past the parser's depth
# limit, and deep enough to overflow the stack of a recursive dump() in an error message.
deep = b"[" * 60000 + b"]" * 60000
for name, header in [("deep_shape", b'{"t":{"dtype":"F32","shape":' + deep + b',"data_offsets":[0,4]}}'),
                     ("deep_offsets", b'{"t":{"dtype":"F32","shape":[1],"data_offsets":' + deep + b'}}'),
                     ("deep_metadata", b'{"__metadata__":{"k":' + deep + b'}}')]:
    write("safetensors", name, struct.pack("<Q", len(header)) + header + b"\0" * 4)
write("safetensors", "f16_dtype", safetensors([("h", [1], [1.0])]).replace(b"F32", b"F16"))


def idx(dims, payload):
    return bytes([0, 0, 8, len(dims)]) + b"".join(struct.pack(">I", d) for d in dims) + payload


images = idx([2, 3, 3], bytes(range(18)))
labels = idx([4], bytes([0, 9, 3, 1]))
write("idx", "images_plain", images)
write("idx", "labels_plain", labels)
write("idx", "images_gzip", gzip.compress(images, mtime=0))
write("idx", "labels_gzip", gzip.compress(labels, mtime=0))
write("idx", "claims_4gb", idx([65535, 65535], b"\x01\x02"))
write("idx", "float_type", bytes([0, 0, 0x0D, 1]) + struct.pack(">I", 1) + struct.pack(">f", 1.0))

write("text", "ascii", "Q: What is the difference?\nA: None.\n")
write("text", "utf8_mixed", "Grüße, 世界! naïve café — 🙂\n")
write("text", "invalid_utf8", b"ok \xff\xfe \xc3\x28 \xed\xa0\x80 \xf4\x90\x80\x80 end")
write("text", "tokenizer_json", json.dumps({"type": "char", "vocab": ["\n", " ", "a", "ü", "🙂"]}))
write("text", "tokenizer_deep_vocab", b'{"type":"char","vocab":' + deep + b"}")
write("text", "tokenizer_unsorted", json.dumps({"type": "char", "vocab": ["b", "a"]}))
# Found by fuzz_text: a non-string "type" escaped as a nlohmann exception instead of mmx::Error.
write("text", "regression_type_not_string", '{"type":["b", "a"]}')

write("phrase_pairs", "dictionary", "\n".join([
    "# Version :: 1.8",
    "Haus {n}; Gebäude {n} | Häuser {pl} :: house; building | houses",
    "Abk. /HI/ :: abbr. [coll.]",
    "h(a)emodynamisch {adj} :: h(a)emodynamic",
    "kleiner < 14 mm :: less than < 14 mm",
    "<Suchwort> Wort :: word",
    "",
    "kaputt :: broken :: twice",
    "A | B :: a",
    "offen ( :: open",
    "Straße {f} :: street; road",
]) + "\n")
write("phrase_pairs", "crlf_and_invalid", b"Tag {m} :: day\r\n\xff :: bad\r\nNacht {f} :: night")
