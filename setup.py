"""Packaging for Motor, the asynchronous MongoDB driver for Tornado."""

import os
import re

from setuptools import find_packages, setup

HERE = os.path.dirname(os.path.abspath(__file__))


def read_version():
    # Read the text rather than import motor: its dependencies may not be
    # installed yet when setup.py runs.
    with open(os.path.join(HERE, "motor", "_version.py"), encoding="utf-8") as f:
        match = re.search(r"""^version\s*=\s*["']([^"']+)["']""", f.read(), re.MULTILINE)
    if not match:
        raise RuntimeError("no version = '...' line in motor/_version.py")
    return match.group(1)


def read_long_description():
    path = os.path.join(HERE, "README.rst")
    if not os.path.exists(path):
        return ""
    with open(path, encoding="utf-8") as f:
        return f.read()


setup(
    name="motor",
    version=read_version(),
    description="Non-blocking MongoDB driver for Tornado",
    long_description=read_long_description(),
    long_description_content_type="text/x-rst",
    license="Apache-2.0",
    packages=find_packages(include=["motor", "motor.*"]),
    # Type information: the py.typed marker and any stub files.
    package_data={"motor": ["py.typed", "*.pyi", "**/*.pyi"]},
    python_requires=">=3.9",
    install_requires=[
        "pymongo>=4.20,<4.21",
        "greenlet>=3.0",
        "tornado>=6.0,<7",
    ],
    extras_require={
        # Client-side field level encryption (MotorClientEncryption).
        "encryption": ["pymongo[encryption]>=4.20,<4.21"],
        # motor.aiohttp's AIOHTTPGridFS handler.
        "aiohttp": ["aiohttp>=3.8"],
    },
    keywords=["mongo", "mongodb", "pymongo", "tornado", "async"],
    classifiers=[
        "Development Status :: 3 - Alpha",
        "Intended Audience :: Developers",
        "License :: OSI Approved :: Apache Software License",
        "Operating System :: POSIX",
        "Operating System :: MacOS :: MacOS X",
        "Programming Language :: Python :: 3",
        "Programming Language :: Python :: 3 :: Only",
        "Framework :: Tornado",
        "Topic :: Database",
    ],
)
