"""One message, two front ends: the library says ``divisor``, the command line ``--divisor``.

Messages name parameters in backticks; :func:`poolcli.errors.spell` says them as
the library's keywords and the command line's :func:`poolcli.cli.spelling.flag`
as the options to type. Failures carry a kind, so nobody parses the text.
"""

from __future__ import annotations

import pickle

import click
import pytest

from poolcli import BatchRequest, PoolSettings, pool
from poolcli.cli import app
from poolcli.cli.arguments import InfoArguments, PoolArguments
from poolcli.cli.spelling import FLAGS, flag
from poolcli.errors import (
    PARAMETERS,
    Failure,
    FailureKind,
    InputError,
    LimitError,
    OutputError,
    OutputExists,
    ParameterError,
    spell,
)

#: Library parameters the command line has no option for: it never passes them.
LIBRARY_ONLY = {
    "axes",
    "channel_axis",
    "threads",
    "output_size",
    "inputs",
    "format",
    "band",
}  # the engine has them; --nodata is to come


def options_of(command: click.Command) -> dict[str, click.Parameter]:
    return {opt: param for param in command.params for opt in getattr(param, "opts", [])}


def test_the_library_says_its_keywords():
    message = "raise it with `max_pixels=N` or lift it with `max_pixels=none`"
    assert spell(message) == "raise it with max_pixels=N or lift it with max_pixels=None"
    assert spell("`existing=skip` or `recursive=true`") == "existing='skip' or recursive=True"
    assert spell("`divisor` only applies to mode 'avg'") == "divisor only applies to mode 'avg'"
    assert spell("`frame=40` is out of range") == "frame=40 is out of range"


def test_the_command_line_says_its_flags():
    message = "raise it with `max_pixels=N` or lift it with `max_pixels=none`"
    assert spell(message, flag) == "raise it with --max-pixels N or lift it with --max-pixels none"
    assert spell("pass `existing=overwrite` or `existing=skip`", flag) == (
        "pass --overwrite or --skip-existing"
    )
    assert spell("`recursive=true`, `null=true`, `workers`, `output=-`", flag) == "-r, -0, -j, -o -"
    assert spell("`count_include_pad=false`", flag) == "--exclude-pad"


def test_backticks_that_name_no_parameter_are_left_alone():
    name = "cannot read my`kern`el.png: `not_a_parameter` and `kernel size`"
    assert spell(name) == name
    assert spell(name, flag) == name


def test_every_flag_the_command_line_names_is_one_of_its_options():
    pool_options, info_options = options_of(app.pool), options_of(app.info)
    pyramid_options = options_of(app.pyramid)
    for name in sorted(PARAMETERS - LIBRARY_ONLY):
        for said in flag(name, None).split(" or "):
            assert said in {**pool_options, **info_options, **pyramid_options}, (name, said)
    for key, said in FLAGS.items():
        assert set(said.split(" or ")) <= set(pool_options), key
    assert flag("format", None) in pool_options


def test_the_arguments_dataclasses_match_the_commands_options_one_for_one():
    assert PoolArguments.names() == {param.name for param in app.pool.params}
    assert InfoArguments.names() == {param.name for param in app.info.params}


def test_a_parameter_error_names_its_parameter_and_value_and_survives_pickling():
    with pytest.raises(ParameterError) as raised:
        pool([[1, 2], [3, 4]], 2, mode="max", divisor=3)
    error = raised.value
    assert (error.parameter, error.value) == ("divisor", 3)
    assert str(error) == "divisor only applies to mode 'avg', not 'max'"
    assert error.said(flag) == "--divisor only applies to mode 'avg', not 'max'"
    again = pickle.loads(pickle.dumps(error))
    assert (type(again), again.message, again.parameter, again.value) == (
        ParameterError,
        error.message,
        "divisor",
        3,
    )


def test_every_error_class_has_its_failure_kind():
    kinds = {
        InputError("x"): FailureKind.INPUT,
        LimitError("x"): FailureKind.LIMIT,
        OutputError("x"): FailureKind.OUTPUT,
        OutputExists("x"): FailureKind.EXISTS,
        ParameterError("x"): FailureKind.USAGE,
    }
    for error, kind in kinds.items():
        assert Failure.of(error) == Failure(kind, "x")
    failure = Failure(FailureKind.LIMIT, "lift it with `max_pixels=none`")
    assert pickle.loads(pickle.dumps(failure)) == failure
    assert str(failure) == "lift it with max_pixels=None"
    assert failure.said(flag) == "lift it with --max-pixels none"


def test_library_and_settings_errors_speak_library_names():
    with pytest.raises(ParameterError, match=r"^size picks the output size itself; .* repeat$"):
        PoolSettings.make(2, size=(10, None), repeat=2)
    with pytest.raises(ParameterError, match=r"^null=True describes a files_from list"):
        BatchRequest(["a.png"], null=True)
    with pytest.raises(ParameterError, match=r"^scheduler is for executor='dask'"):
        BatchRequest(["a.png"], scheduler="tcp://x:8786")
    with pytest.raises(ParameterError, match="existing must be one of 'refuse', 'overwrite'"):
        BatchRequest(["a.png"], existing="sometimes")  # type: ignore[arg-type]
