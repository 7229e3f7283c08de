"""Distributed Reptile (reptile_edu.distributed): the meta-batch split, one process against the package's
batched Reptile, and two gloo processes on 127.0.0.1 against one process on the same tasks."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from reptile_edu import MLP, InnerLoop, SineFamily, reptile, reptile_step, seed_everything
from reptile_edu.distributed import Workers, outer_step, reptile_delta, shard
from reptile_edu.train import train
from reptile_edu.train_config import make_config


@pytest.mark.parametrize("n, world", [(10, 1), (10, 2), (10, 3), (5, 2), (7, 7), (1000, 6)])
def test_shard_gives_every_task_to_exactly_one_rank(n, world):
    slices = [shard(n, r, world) for r in range(world)]
    assert [i for sl in slices for i in range(n)[sl]] == list(range(n))
    sizes = [sl.stop - sl.start for sl in slices]
    assert max(sizes) - min(sizes) <= 1 and min(sizes) >= 1


def test_shard_needs_a_task_per_rank():
    with pytest.raises(
        ValueError, match=r"n \(tasks per meta-batch\) = 1 is smaller than the number of processes \(2\)"
    ):
        shard(1, 0, 2)


def test_one_process_outer_step_is_reptiles_outer_step_to_the_bit():
    """One process: the mean(θ̃ − θ) and the outer step give reptile_step's θ and loss exactly."""
    g = torch.Generator().manual_seed(3)
    torch.manual_seed(0)
    model = MLP.preset("maml")
    episodes = SineFamily("maml", shots=10).episodes(6, g)
    expected, expected_loss = reptile_step(model, episodes, k=3, eta=0.02, epsilon=0.3)
    step = reptile_delta(model, episodes, Workers(), InnerLoop(3, 0.02))
    outer_step(model, None, step.mean_delta, 0.3)
    for name, p in model.named_parameters():
        assert torch.equal(p.detach(), expected[name]), name
    assert step.loss == float(expected_loss)
    assert step.finite and not step.stop


def _config(folder: Path, **fields):
    settings = dict(family="sine", preset="maml", shots=10, k=3, eta=0.02, epsilon=0.5, meta_batch=5, steps=30, seed=7)
    settings.update(eval_every=0, log_every=1, checkpoint_every=10, tensorboard=False, device="cpu")
    settings.update(checkpoint_dir=str(folder), **fields)
    return make_config(settings)


def _reference(config):
    """The package's batched Reptile, one process, on the tasks the same seed draws."""
    g = seed_everything(config.seed)
    model = MLP.preset(config.preset)
    history = reptile(
        model,
        SineFamily(config.preset, shots=config.shots, queries=config.queries),
        steps=config.steps,
        k=config.k,
        eta=config.eta,
        epsilon=config.epsilon,
        anneal=config.anneal,
        outer_optimizer=config.outer_optimizer,
        meta_batch=config.meta_batch,
        generator=g,
        progress=False,
    )
    return model, history


def _losses(folder: Path) -> list[float]:
    lines = (folder / "metrics.jsonl").read_text().splitlines()
    return [r["loss"] for r in map(json.loads, lines) if "loss" in r]


@pytest.mark.parametrize(
    "outer, dtype",
    [({}, torch.float32), ({"outer_optimizer": "adam", "epsilon": 0.01, "anneal": True}, torch.float64)],
)
def test_one_process_matches_the_packages_reptile(tmp_path, outer, dtype):
    """Reptile's step θ ← θ + ε·mean(θ̃ − θ) exactly, and Adam on θ − mean θ̃ with ε annealed, as ``reptile`` does them.

    Adam divides by √v̂: where a gradient is about 0 (a ReLU unit that never fires), float32 rounding of
    the mean alone gives steps of ±ε, so Adam is compared in float64, where both agree to 1e-10."""
    before = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        config = _config(tmp_path, **outer)
        result = train(config, progress=False, echo=lambda _: None)
        expected, history = _reference(config)
    finally:
        torch.set_default_dtype(before)
    for (name, p), q in zip(result.model.named_parameters(), expected.parameters()):
        assert p.dtype == dtype
        if outer:  # Adam: its gradient θ − mean θ̃ is rounded differently from −mean(θ̃ − θ)
            torch.testing.assert_close(p.detach(), q.detach(), atol=1e-6, rtol=1e-5, msg=name)
        else:  # Reptile's own step: the same arithmetic as reptile(), bit for bit
            assert torch.equal(p.detach(), q.detach()), name
    assert _losses(tmp_path) == (history.loss if not outer else pytest.approx(history.loss, rel=1e-5))


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _workers_of(agent: int) -> list[int]:
    """The processes torchrun (pid ``agent``) started."""
    children = Path(f"/proc/{agent}/task/{agent}/children")
    return [int(pid) for pid in children.read_text().split()] if children.exists() else []


def _torchrun(command: list[str], env: dict[str, str], folder: Path, stop_at: int | None = None) -> str:
    """Run ``command``; with ``stop_at``, send SIGTERM to one worker once the log reaches that step."""
    proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        if stop_at is not None:
            log, deadline = folder / "metrics.jsonl", time.monotonic() + 90
            while proc.poll() is None and time.monotonic() < deadline:
                lines = log.read_text().splitlines() if log.exists() else []
                if lines and json.loads(lines[-1])["step"] >= stop_at and _workers_of(proc.pid):
                    os.kill(_workers_of(proc.pid)[-1], signal.SIGTERM)  # one rank only: the stop must reach both
                    break
                time.sleep(0.02)
        out, _ = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    text = out.decode(errors="replace")
    assert proc.returncode == 0, text
    return text


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="finds torchrun's workers in /proc (Linux)")
def test_two_gloo_processes_stop_together_and_reach_the_single_process_theta(tmp_path):
    """torchrun starts 2 processes on 127.0.0.1; each adapts its share (3 and 2 of n = 5 tasks). SIGTERM to one
    of them stops both after the same step with a checkpoint; one process resumes; the end is Reptile's θ."""
    config = _config(tmp_path, meta_batch=5, steps=300, checkpoint_every=1000)
    env = dict(os.environ, OMP_NUM_THREADS="1")
    env.pop("REPTILE_EDU_LANG", None)  # the messages the test reads are the English ones
    if Path("/sys/class/net/lo").exists():
        env["GLOO_SOCKET_IFNAME"] = "lo"  # the loopback interface: 127.0.0.1
    args = ["-m", "reptile_edu.train", "--no-progress", "--device", "cpu", "--no-tensorboard"]
    fields = ("family", "preset", "shots", "k", "eta", "epsilon", "meta_batch", "steps", "seed", "eval_every")
    for name in (*fields, "log_every", "checkpoint_every"):
        args += [f"--{name.replace('_', '-')}", str(getattr(config, name))]
    args += ["--checkpoint-dir", str(tmp_path)]

    def command() -> list[str]:
        launch = [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2", "--nnodes", "1"]
        return launch + ["--master-addr", "127.0.0.1", "--master-port", str(_free_port()), *args]

    first = _torchrun(command(), env, tmp_path, stop_at=30)
    assert "2 processes (gloo)" in first and "stopped after outer step" in first
    stopped_at = torch.load(tmp_path / "checkpoint.pt", weights_only=True)["step"]
    assert 30 <= stopped_at < 300
    # The tasks do not depend on the number of processes: this one process takes over where the two stopped.
    messages = []
    train(config, progress=False, echo=messages.append)
    assert f"resuming at outer step {stopped_at} of 300" in messages
    theta = torch.load(tmp_path / "checkpoint.pt", weights_only=True)["model"]
    expected, history = _reference(config)
    for name, q in expected.named_parameters():
        torch.testing.assert_close(theta[name], q.detach(), atol=1e-5, rtol=1e-4, msg=name)
    assert _losses(tmp_path) == pytest.approx(history.loss, rel=1e-4, abs=1e-6)


def test_the_benchmark_scripts_gpu_section_runs_its_code_on_the_cpu_and_skips_without_cuda(tmp_path):
    """benchmarks/distributed.py: the GPU section's code path, run on the CPU (numbers meaningless)."""
    import importlib.util

    path = Path(__file__).resolve().parents[1] / "benchmarks" / "distributed.py"
    spec = importlib.util.spec_from_file_location("reptile_edu_benchmarks_distributed", path)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    if not torch.cuda.is_available():
        assert "no CUDA device" in bench.gpu_section("cuda", quick=True, log=lambda _: None)["skipped"]
    section = bench.gpu_section("cpu", quick=True, log=lambda _: None, sizes=[2, 4])
    assert set(section["tasks_per_s"]) == {"2", "4"} and all(r["cpu"] > 0 for r in section["tasks_per_s"].values())
    assert section["name"].startswith("cpu (code-path check") and "goal_met" in section
    results = {"machine": {k: "x" for k in ("description", "date", "torch", "python", "reptile_edu")}, "quick": True}
    results["machine"].update(load_average_start=[1.0], load_average_end=[1.0])
    results["gpu"] = section
    assert "| 4 |" in bench.markdown(results)
