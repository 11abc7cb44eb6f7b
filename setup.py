"""Build the optional compiled kernel; without a compiler noisecli uses its numpy twin."""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "noisecli.rng._kernel",
            ["noisecli/rng/_kernel.c"],
            # the bytes must not depend on flags: no FMA contraction, no fast-math,
            # no -march (the AVX2 path is chosen at run time)
            extra_compile_args=["-O3", "-ffp-contract=off", "-fno-fast-math"],
            optional=True,
        ),
        Extension(
            "noisecli.rng._poisson",
            ["noisecli/rng/_poisson.c"],
            extra_compile_args=["-O3", "-ffp-contract=off", "-fno-fast-math"],
            optional=True,
        ),
    ]
)
