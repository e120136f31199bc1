"""Resident memory while Motor uploads and serves the 50 MB ``gridfs_large.bin``.

The file comes from the MongoDB driver benchmark data in ``shared/`` beside
the repository (``../shared/bench-data/single_and_multi_document.tgz``); it
is extracted to a temporary directory. The measurement runs in a fresh
process (``tools/gridfs_memory.py``) so that nothing else the test session
allocated hides or inflates the figure; its result is also written to
``.test-run/gridfs-memory.json``.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import tarfile

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ARCHIVE = os.path.join(
    os.path.dirname(REPO), "shared", "bench-data", "single_and_multi_document.tgz"
)
MEMBER = "single_and_multi_document/gridfs_large.bin"
SCRIPT = os.path.join(REPO, "tools", "gridfs_memory.py")
LIMIT_MB = 20


def extract(directory: str) -> str:
    with tarfile.open(ARCHIVE, "r:gz") as archive:
        member = archive.getmember(MEMBER)
        source = archive.extractfile(member)
        assert source is not None
        target = os.path.join(directory, "gridfs_large.bin")
        with source, open(target, "wb") as out:
            while True:
                block = source.read(1024 * 1024)
                if not block:
                    break
                out.write(block)
    return target


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self (Linux only)")
@pytest.mark.skipif(
    not os.path.exists(ARCHIVE),
    reason=f"benchmark data not found: {ARCHIVE} (shared/ must sit beside the repository)",
)
@pytest.mark.timeout_seconds(300)
async def test_upload_and_serve_50_mb_grows_rss_less_than_20_mb(uri, tmp_path):
    loop = asyncio.get_running_loop()
    path = await loop.run_in_executor(None, extract, str(tmp_path))
    assert os.path.getsize(path) == 50 * 1024 * 1024

    process = await asyncio.create_subprocess_exec(
        sys.executable, SCRIPT, "--uri", uri, "--file", path, "--limit-mb", str(LIMIT_MB),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), 280)
    output = stdout.decode().strip()
    assert output, f"tools/gridfs_memory.py printed nothing; stderr:\n{stderr.decode()}"
    result = json.loads(output.splitlines()[-1])

    run_dir = os.path.join(REPO, ".test-run")
    os.makedirs(run_dir, exist_ok=True)
    with open(os.path.join(run_dir, "gridfs-memory.json"), "w") as f:
        json.dump(result, f, indent=2)
    print("GridFS memory:", json.dumps(result))

    assert set(result["phases"]) == {"upload", "serve", "download"}
    assert result["max_growth_mb"] < LIMIT_MB, f"RSS grew too much: {result}"
    assert process.returncode == 0, stderr.decode()
