"""The pooling modes and the alpha policy: enums that every layer shares."""

from __future__ import annotations

from ..enums import StrEnum
from ..errors import ParameterError


class PoolMode(StrEnum):
    """How a window is reduced to one value."""

    MAX = "max"
    MIN = "min"
    AVG = "avg"
    SUM = "sum"
    LP = "lp"
    RMS = "rms"
    MEDIAN = "median"
    MODE = "mode"

    @property
    def summary(self) -> str:
        """One line for help texts."""
        return _SUMMARIES[self]

    @property
    def selects(self) -> bool:
        """True when every output value is one of the window's input values."""
        return self in (PoolMode.MAX, PoolMode.MIN, PoolMode.MODE)

    @property
    def separable(self) -> bool:
        """True when a 2-D window reduces as rows then columns (a sum or a max)."""
        return self not in (PoolMode.MEDIAN, PoolMode.MODE)

    @property
    def weighted_by_alpha(self) -> bool:
        """True for modes that average colours, which alpha must weight."""
        return self in (PoolMode.AVG, PoolMode.LP, PoolMode.RMS)

    @classmethod
    def parse(cls, value: str | PoolMode) -> PoolMode:
        """The mode named ``value``; a :class:`ParameterError` lists the choices."""
        try:
            return cls(value)
        except ValueError:
            choices = ", ".join(m.value for m in cls)
            message = f"unknown pooling `mode` {value!r}; choose one of: {choices}"
            raise ParameterError(message, parameter="mode", value=value) from None


_SUMMARIES = {
    PoolMode.MAX: "largest value (NaN wins; padding never does)",
    PoolMode.MIN: "smallest value (NaN wins; padding never does)",
    PoolMode.AVG: "mean; integers rounded half up, exactly",
    PoolMode.SUM: "sum; integers widen to 64 bits",
    PoolMode.LP: "power mean (sum of x**p) ** (1/p), PyTorch's LPPool2d",
    PoolMode.RMS: "root mean square, sqrt(mean(x**2))",
    PoolMode.MEDIAN: "median of the real pixels (two middles averaged, half up)",
    PoolMode.MODE: "most frequent value (whole pixels on colour images; ties to the smallest)",
}


class AlphaPolicy(StrEnum):
    """How averaging modes treat colour under transparency."""

    #: Colour weighted by alpha, Σ(c·a)/Σa rounded once: no colour bleeds from
    #: invisible pixels (what Pillow's ``reduce`` intends, but exact); the selecting
    #: modes (and median) take colour from visible pixels only.
    PREMULTIPLIED = "premultiplied"
    #: Every channel, alpha included, pooled on its own.
    INDEPENDENT = "independent"

    @classmethod
    def parse(cls, value: str | AlphaPolicy) -> AlphaPolicy:
        try:
            return cls(value)
        except ValueError:
            message = f"`alpha` must be 'premultiplied' or 'independent', got {value!r}"
            raise ParameterError(message, parameter="alpha", value=value) from None


#: ``nodata="none"``: no value is nodata, whatever the file says.
NO_NODATA = "none"
