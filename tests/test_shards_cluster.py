"""A two-node Ray cluster on this machine tags a corpus with ``--engine ray
--address``, and a worker killed mid-run loses and duplicates nothing.

Its own module: it ends with ``ray stop --force``, which stops every Ray
process on the machine, so no embedded Ray of another test may be alive.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_shards import FIXTURE_PIPELINE, outputs, sentence


def ray_cli(*args: str, env: dict) -> subprocess.CompletedProcess:
    ray = Path(sys.executable).parent / "ray"
    return subprocess.run([str(ray), *args], capture_output=True, text=True, env=env, timeout=180)


def actor_pids() -> list:
    found = subprocess.run(["pgrep", "-f", "ray::MapWorker"], capture_output=True, text=True)
    return [int(pid) for pid in found.stdout.split()]


@pytest.mark.skipif(sys.platform != "linux", reason="pgrep and /proc: Linux")
def test_a_two_node_cluster_tags_a_corpus_and_survives_a_killed_worker(tmp_path):
    """A head and a worker node, each its own processes with one CPU, on the
    loopback address; two workers of one CPU each can only run one per node.
    A worker killed mid-run is restarted by Ray and its chunk done again:
    the output equals the local engine's, nothing lost or written twice."""
    pytest.importorskip("ray")
    import secrets
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": secrets.token_hex(32)}
    address = f"127.0.0.1:{port}"
    corpus = tmp_path / "in"
    corpus.mkdir()
    for s in range(8):
        lines = [sentence(s * 1000 + i) for i in range(200)]
        (corpus / f"part{s}.txt").write_text("\n".join(lines) + "\n", encoding="utf8")
    common = ["--node-ip-address=127.0.0.1", "--num-cpus=1", "--disable-usage-stats"]
    head = ray_cli(
        "start", "--head", f"--port={port}", "--include-dashboard=false", *common, env=env
    )
    try:
        assert head.returncode == 0, head.stderr
        worker = ray_cli("start", f"--address={address}", *common, env=env)
        assert worker.returncode == 0, worker.stderr
        out = tmp_path / "out"
        command = [sys.executable, "-m", "conner", "tag", str(FIXTURE_PIPELINE), str(corpus)]
        command += ["-o", str(out), "--engine", "ray", "--address", address, "--workers", "2"]
        command += ["--cpus-per-worker", "1", "--chunk-docs", "10", "--no-progress"]
        run = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        deadline = time.monotonic() + 300
        while len(actor_pids()) < 2 or not list(out.glob("*.jsonl")):
            assert run.poll() is None and time.monotonic() < deadline, run.communicate()
            time.sleep(0.1)
        assert len(list(out.glob("*.jsonl"))) < 8, "the worker must be killed mid-run"
        killed = actor_pids()[0]
        os.kill(killed, signal.SIGKILL)
        stdout, stderr = run.communicate(timeout=600)
        assert run.returncode == 0, stderr.decode()
        assert b"8 shards written, 0 already done, 0 failed; 1600 documents" in stdout
    finally:
        ray_cli("stop", "--force", env=env)
    local = tmp_path / "local"
    command = [sys.executable, "-m", "conner", "tag", str(FIXTURE_PIPELINE), str(corpus)]
    subprocess.run([*command, "-o", str(local), "--chunk-docs", "10", "--no-progress"], check=True)
    assert outputs(out) == outputs(local)
