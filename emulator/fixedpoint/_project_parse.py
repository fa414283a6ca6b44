"""Read the parts of an hls4ml project directory that define its arithmetic (text only, no compiler).

hls4ml (0.8-1.3, Vivado/Vitis, io_parallel or io_stream) writes ``firmware/defines.h`` (the typedefs;
``nnet::array<T, N>`` for the packs of an io_stream project),
``firmware/parameters.h`` (one ``struct configN : nnet::..._config`` per layer),
``firmware/weights/*.txt`` (or ``.h`` initialisers) and ``firmware/<project>.cpp``, whose top
function calls one ``nnet::`` kernel per layer:
``nnet::dense<layer9_t, rho_result_t, config10>(layer9_out, layer10_out, w10, b10); // rho``.
An io_stream top function takes ``hls::stream<input_t> &x`` arguments (no sizes: the layers'
configs give them) and wires the layers with ``hls::stream`` variables and ``clone_stream``.

>>> cfg = parse_structs("struct config2 : nnet::dense_config { static const unsigned n_in = 4*2;"
...                     " typedef ap_fixed<8,3> accum_t; template<class x_T, class y_T>"
...                     " using product = nnet::product::mult<x_T, y_T>; };")["config2"]
>>> cfg.base, cfg.ints["n_in"], cfg.types["accum_t"], cfg.usings["product"]
('dense_config', 8, 'ap_fixed<8,3>', 'mult')
"""

from __future__ import annotations

import ast
import math
import operator
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from emulator.fixedpoint.errors import UnsupportedLayerError

__all__ = [
    "Call",
    "Config",
    "Project",
    "Signature",
    "parse_project",
    "parse_quantizers",
    "parse_structs",
    "read_weight_text",
]

_STRUCT = re.compile(r"struct\s+(\w+)\s*:\s*nnet::(\w+)\s*\{(.*?)\n?\};", re.S)
_CONST = re.compile(r"static\s+(?:const|constexpr)\s+[\w:<>]+\s+(\w+)\s*=\s*([^;]+);")
_TYPEDEF = re.compile(r"typedef\s+((?:[\w:]+<[^;]*?>)|[\w:]+)\s+(\w+)\s*;")
_USING = re.compile(r"using\s+(\w+)\s*=\s*nnet::(?:product::)?(\w+)\s*<")
_STRUCT_TYPEDEF = re.compile(r"typedef\s+struct\s+(\w+)\s*\{([^}]*)\}\s*(\w+)\s*;")
_CALL = re.compile(r"nnet::(\w+)\s*<(.*?)>\s*\(([^;]*?)\)\s*;[ \t]*(?://[ \t]*(\S+))?")
_ALIAS = re.compile(r"auto\s*&\s*(\w+)\s*=\s*(\w+)\s*;")
_ARRAY = re.compile(r"^\s*(\w+)\s+(\w+)\s*\[([\w\s*+]+)\]\s*;", re.M)
_SIGNATURE = re.compile(r"void\s+(\w+)\s*\(([^)]*)\)\s*\{")
_PARAM = re.compile(r"(\w+)\s+(\w+)\s*\[([^\]]+)\]")
_STREAM_PARAM = re.compile(r"hls::stream\s*<\s*(\w+)\s*>\s*&\s*(\w+)")
_PACK = re.compile(r"^nnet::array\s*<\s*(.+?)\s*,\s*([\d\s*]+)>$")
_DEFINE = re.compile(r"^\s*#define\s+(\w+)\s+(\d+)\s*$", re.M)
_CODEGEN_FN = re.compile(r"void\s+(\w+)\s*\(\s*input_t\s*\*\s*inp\s*,\s*output_t\s*\*\s*out\s*\)\s*\{(.*?)\n\}", re.S)
_CODEGEN_LINE = re.compile(r"out\[(\d+)\]\s*=\s*(?:0|(ap_u?fixed<[^>]*>)\s*\(\s*inp\[(\d+)\]\s*\))\s*;")
_OPS: dict[type, Callable[[int, int], int]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.FloorDiv: operator.floordiv,
    ast.Div: operator.floordiv,
}


def _eval_int(text: str, names: dict[str, int]) -> int | None:
    """An integer constant expression of ``+ - * /`` and earlier fields, else None."""

    def walk(node: ast.AST) -> int:
        if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
            return int(node.value)
        if isinstance(node, ast.Name) and node.id in names:
            return names[node.id]
        if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
            return _OPS[type(node.op)](walk(node.left), walk(node.right))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return -walk(node.operand)
        raise ValueError(text)

    try:
        return walk(ast.parse(text.strip().replace("true", "1").replace("false", "0"), mode="eval").body)
    except (SyntaxError, ValueError, ZeroDivisionError):
        return None


@dataclass(frozen=True, slots=True)
class Config:
    """One ``configN`` struct: its base, integer fields, other fields (text), typedefs, usings."""

    name: str
    base: str
    ints: dict[str, int]
    values: dict[str, str]
    types: dict[str, str]
    usings: dict[str, str]


def parse_structs(text: str) -> dict[str, Config]:
    configs = {}
    for name, base, body in _STRUCT.findall(text):
        ints: dict[str, int] = {}
        values: dict[str, str] = {}
        for key, value in _CONST.findall(body):
            values[key] = value.strip()
            number = _eval_int(value, ints)
            if number is not None:
                ints[key] = number
        types = {alias: target.strip() for target, alias in _TYPEDEF.findall(body)}
        usings = dict(_USING.findall(body))
        configs[name] = Config(name, base, ints, values, types, usings)
    return configs


@dataclass(frozen=True, slots=True)
class Call:
    """One kernel call of the top function, in order."""

    function: str
    template: tuple[str, ...]  # data types, then the config struct
    args: tuple[str, ...]
    layer: str  # the layer name in the trailing comment (or the output array)


@dataclass(frozen=True, slots=True)
class Signature:
    """One array argument of the top function: type name, array name, size expression."""

    type: str
    name: str
    size: str


@dataclass(frozen=True)
class Project:
    """What the reader needs from a project directory."""

    root: Path
    name: str
    typedefs: dict[str, str]
    structs: dict[str, tuple[str, ...]]  # typedef struct NAME {fields} (exponent weights)
    configs: dict[str, Config]
    params: tuple[Signature, ...]
    calls: tuple[Call, ...]
    aliases: dict[str, str]
    arrays: dict[str, Signature] = field(default_factory=dict)
    quantizers: dict[str, tuple[str | None, ...]] = field(default_factory=dict)  # nnet_code_gen.h
    io_type: str = "io_parallel"

    def _spelling(self, name: str, config: Config | None) -> str:
        seen = 0
        while seen < 16:
            if config is not None and name in config.types:
                name = config.types[name]
            elif name in self.typedefs:
                name = self.typedefs[name]
            else:
                return name
            config = None
            seen += 1
        return name

    def resolve(self, name: str, config: Config | None = None) -> str:
        """The ``ap_*`` spelling of a type name (through the config's and the global typedefs);
        the element type of an io_stream pack ``nnet::array<T, N>``."""
        text = self._spelling(name, config)
        m = _PACK.match(text)
        return self._spelling(m.group(1), None) if m else text

    def pack(self, name: str, config: Config | None = None) -> int:
        """Values per stream element of type ``name`` (``N`` of ``nnet::array<T, N>``; 1 otherwise)."""
        m = _PACK.match(self._spelling(name, config))
        return math.prod(int(v) for v in m.group(2).split("*") if v.strip()) if m else 1

    def source(self, name: str) -> str:
        """The array an alias (``auto& layer10_out = layer9_out;``) stands for."""
        while name in self.aliases:
            name = self.aliases[name]
        return name


def _split_top(text: str) -> list[str]:
    """Split ``a, b<c, d>, e`` at top-level commas."""
    parts, depth, cur = [], 0, ""
    for ch in text:
        depth += (ch == "<") - (ch == ">")
        if ch == "," and depth == 0:
            parts.append(cur.strip())
            cur = ""
        else:
            cur += ch
    if cur.strip():
        parts.append(cur.strip())
    return parts


def parse_quantizers(text: str, where: Path) -> dict[str, tuple[str | None, ...]]:
    """The per-element casts of ``nnet_code_gen.h`` (HGQ2 quantisers): element type, None for 0.

    >>> parse_quantizers("void q2(input_t *inp, output_t *out) {\\n out[0] = 0;\\n"
    ...                  " out[1] = ap_ufixed<3,1,AP_RND,AP_WRAP>(inp[1]);\\n}", Path("."))
    {'q2': (None, 'ap_ufixed<3,1,AP_RND,AP_WRAP>')}
    """
    out = {}
    for name, body in _CODEGEN_FN.findall(text):
        statements = [m.group(0) for m in re.finditer(r"\bout\[[^;]*;", body)]
        elements: list[str | None] = []
        for k, statement in enumerate(statements):
            m = _CODEGEN_LINE.fullmatch(statement)
            if m is None or int(m.group(1)) != k or (m.group(3) is not None and int(m.group(3)) != k):
                msg = f"{where}: quantiser {name}: element {k} is not 'out[{k}] = ap_fixed<…>(inp[{k}])': {statement!r}"
                raise UnsupportedLayerError(msg)
            elements.append(m.group(2))
        out[name] = tuple(elements)
    return out


def _top_source(root: Path) -> tuple[str, str]:
    firmware = root / "firmware"
    if not firmware.is_dir():
        msg = f"{root}: not an hls4ml project directory (no firmware/)"
        raise UnsupportedLayerError(msg)
    for cpp in sorted(firmware.glob("*.cpp")):
        text = cpp.read_text(errors="replace")
        m = _SIGNATURE.search(text)
        if m and m.group(1) == cpp.stem and "nnet::" in text:
            return cpp.stem, text
    msg = f"{firmware}: no top function (a <project>.cpp defining void <project>(...) with nnet:: calls)"
    raise UnsupportedLayerError(msg)


def parse_project(root: str | Path) -> Project:
    """Parse ``root`` (the directory holding ``firmware/``)."""
    base = Path(root)
    try:
        name, top = _top_source(base)
        defines = (base / "firmware" / "defines.h").read_text(errors="replace")
        parameters = (base / "firmware" / "parameters.h").read_text(errors="replace")
    except OSError as exc:
        msg = f"{base}: not an hls4ml project directory ({exc})"
        raise UnsupportedLayerError(msg) from exc
    sig = _SIGNATURE.search(top)
    assert sig is not None
    macros = dict(_DEFINE.findall(defines))  # hls4ml 0.8 sizes: #define N_INPUT_1_1 57

    def expand(text: str) -> str:
        return re.sub(r"\b[A-Z_][A-Z0-9_]*\b", lambda m: macros.get(m.group(0), m.group(0)), text)

    io_type = "io_stream" if "hls::stream" in sig.group(2) else "io_parallel"
    if io_type == "io_stream":  # sizes come from the layers that read and write the streams
        params = tuple(Signature(t, n, "") for t, n in _STREAM_PARAM.findall(sig.group(2)))
    else:
        params = tuple(Signature(t, n, expand(size)) for t, n, size in _PARAM.findall(sig.group(2)))
    if len(params) != len([a for a in sig.group(2).split(",") if a.strip()]):
        msg = f"{base}: the top function {name}() takes arguments that are not arrays: {sig.group(2).split()}"
        raise UnsupportedLayerError(msg)
    parameters = expand(parameters)
    body = top[sig.end() :]
    calls = []
    for func, template, args, layer in _CALL.findall(body):
        if func.startswith("load_"):
            continue
        call_args = tuple(a.strip() for a in args.split(","))
        calls.append(Call(func, tuple(_split_top(template)), call_args, layer or call_args[1]))
    structs = {alias: tuple(f.strip() for f in fields.split(";") if f.strip())
               for _, fields, alias in _STRUCT_TYPEDEF.findall(defines)}  # fmt: skip
    typedefs = {alias: target.strip() for target, alias in _TYPEDEF.findall(_STRUCT_TYPEDEF.sub("", defines))}
    arrays = {n: Signature(t, n, expand(s)) for t, n, s in _ARRAY.findall(body)}
    codegen = base / "firmware" / "nnet_utils" / "nnet_code_gen.h"
    quantizers = parse_quantizers(codegen.read_text(errors="replace"), codegen) if codegen.is_file() else {}
    return Project(base, name, typedefs, structs, parse_structs(parameters), params, tuple(calls),
                   dict(_ALIAS.findall(body)), arrays, quantizers, io_type)  # fmt: skip


def read_weight_text(project: Project, array: str) -> list[str]:
    """The values of weight array ``array`` as written (``weights/<array>.txt`` or the ``.h`` initialiser)."""
    weights = project.root / "firmware" / "weights"
    txt = weights / f"{array}.txt"
    if txt.exists():
        text = txt.read_text().strip()
    else:
        header = weights / f"{array}.h"
        try:
            source = header.read_text()
        except OSError as exc:
            msg = f"{project.root}: weights {array!r} not found ({txt} or {header})"
            raise UnsupportedLayerError(msg) from exc
        m = re.search(r"\b" + re.escape(array) + r"\s*\[[^\]]*\]\s*=\s*\{(.*)\};", source, re.S)
        if m is None:
            msg = f"{header}: no initialiser for {array!r}"
            raise UnsupportedLayerError(msg)
        text = m.group(1)
    if text.startswith("{"):  # exponent weights: {sign, exponent} pairs
        return re.findall(r"\{\s*([^{}]+?)\s*\}", text)
    return [t.strip() for t in text.split(",") if t.strip()]
