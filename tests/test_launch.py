"""The console script's first guess at the input, before the command line loads."""

from __future__ import annotations

import click
import pytest

from poolcli import launch
from poolcli.cli import cli


def test_every_option_that_takes_a_value_is_known():
    command = cli.commands["pool"]
    taking = {
        name
        for param in command.params
        if isinstance(param, click.Option) and not param.is_flag and not param.count
        for name in (*param.opts, *param.secondary_opts)
    }
    assert taking == set(launch.VALUE_OPTIONS)


@pytest.mark.parametrize(
    ("args", "guess"),
    [
        (["pool", "photo.jpg", "-o", "small.jpg"], ("photo.jpg", 89_478_485)),
        (["pool", "-o", "small.jpg", "-k", "3x2", "photo.jpg"], ("photo.jpg", 89_478_485)),
        (["pool", "photo.jpg", "--max-pixels", "none"], ("photo.jpg", None)),
        (["pool", "photo.jpg", "--max-pixels=1000"], ("photo.jpg", 1000)),
        (
            ["pool", "photo.jpg", "-k2", "--ceil-mode", "-O", "quality=80"],
            ("photo.jpg", 89_478_485),
        ),
        (["pool", "a.jpg", "b.jpg"], None),  # a batch: no guess
        (["pool", "-r", "photos"], ("photos", 89_478_485)),  # not a file: start() declines
        (["info", "photo.jpg"], None),
        (["pool", "--", "-odd.jpg"], None),
        (["pool", "photo.jpg", "--max-pixels", "lots"], None),
        ([], None),
    ],
)
def test_guess_input(args, guess):
    assert launch.guess_input(args) == guess
