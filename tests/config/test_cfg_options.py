"""The ``--cfg-options`` grammar (mmcv 1.x ``DictAction``) and its errors."""
import pytest

from ocr_ds.config import parse_cfg_options, parse_value
from ocr_ds.config.options import options_to_tree
from ocr_ds.errors import UserError


@pytest.mark.parametrize("token, expected", [
    # the examples from REFERENCE §2 and the brief
    ("k=a,b", ["a", "b"]),
    ('k="[a,b]"', ["a", "b"]),
    ('k="[(1,2),(3,4)]"', [(1, 2), (3, 4)]),
    ("k='[(1,2,3),[a,b],c]'", [(1, 2, 3), ["a", "b"], "c"]),
    ("k=1", 1),
    ("k=1.5e-3", 0.0015),
    ("k=True", True),
    ("k=None", None),
    # scalars
    ("k=-3", -3),
    ("k=0.5", 0.5),
    ("k=false", False),
    ("k=TRUE", True),
    ("k=none", "none"),  # only `None` exactly, as in mmcv
    ("k=SGD", "SGD"),
    ("k=", ""),
    ("k=a=b", "a=b"),  # split at the first '=' only
    # whitespace of any kind is removed, quotes stripped
    ("k=' [ 1 ,\t2 ] '", [1, 2]),
    ('k="hello world"', "helloworld"),
    ("k=['a','b']", ["a", "b"]),  # quotes are stripped at every level
    ('k=("x",1)', ("x", 1)),
    # brackets and nesting
    ("k=[]", []),
    ("k=()", ()),
    ("k=(1,)", (1,)),
    ("k=1,", [1]),
    ("k=[[1,2],[3,[4,5]]]", [[1, 2], [3, [4, 5]]]),
    ("k=(a,[b,(c,d)])", ("a", ["b", ("c", "d")])),
    ("k=(1)", (1,)),  # brackets always make a tuple, as in mmcv
    ("k=(1),(2)", [(1,), (2,)]),  # mmcv recurses forever on this one
    ("k=foo(bar)", "foo(bar)"),
    # never evaluated
    ("k=__import__('os').system('x')", "__import__('os').system('x')"),
    ("k=__import__('os').system('x'),1", ["__import__('os').system('x')", 1]),
])
def test_value_grammar(token, expected):
    got = parse_cfg_options([token])
    assert got == {"k": expected}
    assert type(got["k"]) is type(expected)


def test_nested_types_are_exact():
    value = parse_value("[(1,2,3),[a,b],c]")
    assert [type(v) for v in value] == [tuple, list, str]


def test_dotted_keys_and_last_wins():
    got = parse_cfg_options(["model.backbone.depth=50", "data.train.pipeline.0.type=X",
                             "lr=0.1", "lr=0.2"])
    assert got == {"model.backbone.depth": 50, "data.train.pipeline.0.type": "X", "lr": 0.2}


def test_options_to_tree():
    tree = options_to_tree({"a.b.c": 1, "a.b.d": [1], "a.e": None, "f": "x"})
    assert tree == {"a": {"b": {"c": 1, "d": [1]}, "e": None}, "f": "x"}


def test_options_to_tree_does_not_change_a_given_dict():
    given = {"x": 1}
    assert options_to_tree({"m": given, "m.y": 2}) == {"m": {"x": 1, "y": 2}}
    assert given == {"x": 1}


@pytest.mark.parametrize("tokens, message", [
    (["lr"], "--cfg-options: expected key=value (got 'lr')"),
    (["=1"], "--cfg-options: expected a non-empty key before '=' (got '=1')"),
    (["a..b=1"], "expected a dotted key like 'model.backbone.depth' (got 'a..b=1')"),
    ([".a=1"], "(got '.a=1')"),
    (["a b=1"], "expected a key without whitespace (got 'a b=1')"),
    (["k=[a,b"], "--cfg-options k: expected balanced brackets (got '[a,b')"),
    (["k=[a"], "--cfg-options k: expected balanced brackets (got '[a')"),
    (["k=a]"], "expected balanced brackets"),
    (["k=(1,2]"], "--cfg-options k: expected balanced brackets (got '(1,2]')"),
    (["k=)("], "expected balanced brackets"),
])
def test_bad_tokens(tokens, message):
    with pytest.raises(UserError) as err:
        parse_cfg_options(tokens)
    assert message in str(err.value)


def test_conflicting_options():
    with pytest.raises(UserError, match=r"cfg-options a\.b: conflicts with option 'a' set to 1"):
        options_to_tree({"a": 1, "a.b": 2})
    with pytest.raises(UserError, match=r"cfg-options a: conflicts with option 'a\.b'"):
        options_to_tree({"a.b": 2, "a": 1})
