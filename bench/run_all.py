"""Every benchmark of the course in one run, figures side by side.

    .venv/bin/python bench/run_all.py [--pairs 10] [--runs 20] [--skip-nbval] [--skip-setup] [--include-apt]

1. Lab.run against `docker run --rm` (paired, interleaved: bench/run_overhead.py's timers);
2. the whole course under nbval (pytest --nbval notebooks/) and its slowest cells;
3. the streaming image-tarball reader against `tar -tf` (bench/layer_reader.py's tarball);
4. SVG render times: a namespace map of 10 containers, a 100-layer stack, the 30-service compose
   graph, a usage chart of 300 samples;
5. a fresh setup, split: the engine install (`apt-get install --reinstall docker.io`, only with
   --include-apt), the Python environment (a new venv + `pip install -e .[test]`, from pip's cache)
   and the images (`setup --force --only busybox`, and containerlab/debian from the cached root
   filesystem, as setup does after the first debootstrap).

Needs root and the engine (as the course does). Every resource it makes carries the owner
`bench` and is removed at the end; the images it rebuilds are the course's own.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from run_overhead import time_cli, time_lab  # noqa: E402 - bench/ is not a package

from containerlab.engine.connect import connect  # noqa: E402
from containerlab.engine.lab import Lab  # noqa: E402

OWNER = "bench"
SLOWEST_CELLS = 8
Row = tuple[str, str]


def timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def median_ms(action: Callable[[], object], runs: int) -> float:
    """Median milliseconds of ``runs`` calls after one warm-up call."""
    action()
    return statistics.median(timed(action) for _ in range(runs)) * 1000


def section(title: str, rows: list[Row]) -> None:
    print(f"\n{title}")
    width = max((len(name) for name, _ in rows), default=0)
    for name, value in rows:
        print(f"  {name:<{width}}  {value}", flush=True)


# -- 1. Lab.run vs the CLI ------------------------------------------------------------------------

def lab_run_overhead(engine, pairs: int) -> list[Row]:
    cli = shutil.which("podman" if engine.is_podman else "docker")
    if cli is None:
        return [("skipped", f"the {engine.name} CLI is not installed")]
    image = "containerlab/busybox"
    with Lab("bench", owner=OWNER, engine=engine) as lab:
        time_lab(lab, image), time_cli(cli, image)
        lab_times, cli_times, ratios = [], [], []
        for index in range(pairs):  # alternate which side goes first, so drift cancels out
            if index % 2:
                cli_t = time_cli(cli, image)
                lab_t = time_lab(lab, image)
            else:
                lab_t = time_lab(lab, image)
                cli_t = time_cli(cli, image)
            lab_times.append(lab_t)
            cli_times.append(cli_t)
            ratios.append(lab_t / cli_t)
    return [("Lab.run (median)", f"{statistics.median(lab_times):.3f} s"),
            (f"{Path(cli).name} run --rm (median)", f"{statistics.median(cli_times):.3f} s"),
            ("ratio Lab.run / CLI (median of pairs)", f"{statistics.median(ratios):.3f}  ({pairs} pairs)")]


# -- 2. the course under nbval --------------------------------------------------------------------

def course_under_nbval() -> list[Row]:
    env = {**os.environ, "CONTAINERLAB_OWNER": f"{OWNER}-nbval"}
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "notebooks", f"--durations={SLOWEST_CELLS}",
                           "--durations-min=0"], cwd=ROOT, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    lines = done.stdout.splitlines()
    summary = next((line.strip("= ") for line in reversed(lines) if " in " in line and
                    re.search(r"\d+ (passed|failed)", line)), f"pytest exit {done.returncode}")
    rows = [("whole course (wall clock)", f"{elapsed:.1f} s"), ("pytest says", summary)]
    notebooks = sorted(ROOT.glob("notebooks/[0-9][0-9]-*.ipynb"))
    rows.append(("notebooks", f"{len(notebooks)}, {elapsed / max(1, len(notebooks)):.1f} s each on average"))
    slow = [line for line in lines if re.match(r"\s*[0-9.]+s (call|setup|teardown)\s", line)]
    for line in slow[:SLOWEST_CELLS]:
        seconds, _, where = line.split(None, 2)
        rows.append((f"slow cell {where.strip().removeprefix('notebooks/')}", seconds))
    return rows


# -- 3. layer reader vs tar -tf -------------------------------------------------------------------

def layer_reader_vs_tar(runs: int) -> list[Row]:
    try:
        import layer_reader
    except ImportError:
        return [("layer reader", "not yet available (bench/layer_reader.py is missing)")]
    from containerlab.images import read_image

    workdir = Path(tempfile.mkdtemp(prefix="clab-bench-"))
    lab = None
    try:
        path, lab = layer_reader.make_tarball(workdir)
        contenders = {
            "reader (digests checked)": lambda: read_image(path),
            "reader verify=False": lambda: read_image(path, verify=False),
            "tar -tf": lambda: layer_reader.shell(["tar", "-tf", str(path)]),
            "tar --no-seek -tf": lambda: layer_reader.shell(["tar", "--no-seek", "-tf", str(path)]),
        }
        for action in contenders.values():
            action()
        times: dict[str, list[float]] = {name: [] for name in contenders}
        for run in range(runs):
            for name in (contenders if run % 2 == 0 else reversed(list(contenders))):
                times[name].append(layer_reader.timed(contenders[name]))
        median = {name: statistics.median(values) for name, values in times.items()}
        rows = [("tarball", f"{path.stat().st_size / 1e6:.0f} MB, {runs} runs")]
        rows += [(name, f"{seconds * 1000:.0f} ms") for name, seconds in median.items()]
        rows.append(("ratio reader / tar -tf", f"{median['reader (digests checked)'] / median['tar -tf']:.2f}"))
        rows.append(("ratio reader / tar --no-seek -tf",
                     f"{median['reader (digests checked)'] / median['tar --no-seek -tf']:.2f}"))
        return rows
    finally:
        if lab is not None:
            lab.cleanup()
        shutil.rmtree(workdir, ignore_errors=True)


# -- 4. SVG renders -------------------------------------------------------------------------------

def svg_renders(runs: int) -> list[Row]:
    from containerlab.compose import load_compose_file
    from containerlab.kernel.cgroups import UsageSample
    from containerlab.kernel.namespaces import NAMESPACE_TYPES, Namespaces, compare_namespaces
    from containerlab.kernel.overlay import ChangeCounts
    from containerlab.render.compose_graph import compose_graph
    from containerlab.render.layers import StackLayer, overlay_stack
    from containerlab.render.nsmap import namespace_map
    from containerlab.render.usage import usage_chart

    host = Namespaces("host", {kind: 4026531830 + i for i, kind in enumerate(NAMESPACE_TYPES)})
    processes = {"host": host}
    for number in range(10):
        shares = {"user", "time"} | ({"net"} if number % 3 == 0 else set())
        processes[f"web-{number}"] = Namespaces(number, {
            kind: host[kind] if kind in shares else 4026540000 + number * 10 + i
                                                        for i, kind in enumerate(NAMESPACE_TYPES)})
    comparison = compare_namespaces(processes)
    layers = [StackLayer(f"RUN step {index} && make install-{index}", size=2 ** (index % 28),
                         changes=ChangeCounts(index % 7, index % 3, index % 2)) for index in range(100)]
    upper = StackLayer("upper: the container's writes", size=4096, changes=ChangeCounts(1, 1, 1), kind="upper")
    platform = load_compose_file(ROOT / "tests/fixtures/compose/platform/compose.yaml", environ={})
    samples = [UsageSample(i * 0.1, 2**20 * (10 + i % 40), i * 45_000) for i in range(300)]
    renders = {
        "namespace map, 10 containers + host": lambda: namespace_map(comparison)._repr_mimebundle_(),
        "layer stack, 100 layers + upper": lambda: overlay_stack(layers, upper=upper)._repr_mimebundle_(),
        f"compose graph, {len(platform.services)} services": lambda: compose_graph(platform)._repr_mimebundle_(),
        "usage chart, 300 samples": lambda: usage_chart(samples, memory_limit=64 * 2**20,
                                                        cpu_limit=0.5)._repr_mimebundle_(),
    }
    return [(name, f"{median_ms(render, runs):.1f} ms (median of {runs}, SVG + HTML bundle)")
            for name, render in renders.items()]


# -- 5. fresh setup -------------------------------------------------------------------------------

def cold_busybox_build(engine) -> float:
    """Seconds to build the busybox image's context with the build cache off (a fresh machine's case)."""
    from containerlab.engine.images import BUSYBOX_DOCKERFILE, GROUP, PASSWD, _context_tar, find_static_busybox

    files = {"Dockerfile": BUSYBOX_DOCKERFILE.encode(), "busybox": Path(find_static_busybox()).read_bytes(),
             "etc/passwd": PASSWD.encode(), "etc/group": GROUP.encode()}
    lab = Lab("bench-setup", owner=OWNER, engine=engine)

    def build() -> None:
        for chunk in engine.client.api.build(fileobj=_context_tar(files, {"busybox"}), custom_context=True,
                                             tag=f"{lab.name_for('busybox')}:cold", labels=lab.labels(),
                                             nocache=True, rm=True, forcerm=True, decode=True):
            if "error" in chunk:
                raise RuntimeError(chunk["error"])

    try:
        return timed(build)
    finally:
        lab.cleanup()


def fresh_setup(engine, include_apt: bool) -> list[Row]:
    rows: list[Row] = []
    if include_apt:
        seconds = timed(lambda: subprocess.run(["apt-get", "install", "--reinstall", "-y", "-qq", "docker.io"],
                                               check=True, stdout=subprocess.DEVNULL,
                                               env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"}))
        rows.append(("engine install (apt-get install --reinstall docker.io)", f"{seconds:.1f} s"))
    else:
        rows.append(("engine install", "skipped (pass --include-apt to time apt-get install --reinstall docker.io)"))
    with tempfile.TemporaryDirectory(prefix="clab-bench-venv-") as scratch:
        venv = Path(scratch) / "venv"
        created = timed(lambda: subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True))
        env = {**os.environ, "PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD": "1"}
        installed = timed(lambda: subprocess.run([str(venv / "bin/pip"), "install", "-q", "-e", f"{ROOT}[test]"],
                                                 check=True, env=env, cwd=scratch, stdout=subprocess.DEVNULL))
    rows.append(("Python env: python -m venv", f"{created:.1f} s"))
    rows.append(("Python env: pip install -e .[test] (pip cache warm)", f"{installed:.1f} s"))
    setup_busybox = [sys.executable, "-m", "containerlab", "setup", "--force", "--only", "busybox"]
    busybox = timed(lambda: subprocess.run(setup_busybox,
                                           check=True, stdout=subprocess.DEVNULL, cwd=ROOT))
    rows.append(("images: setup --force --only busybox (build cache warm)", f"{busybox:.1f} s"))
    rows.append(("images: the same busybox build, no cache", f"{cold_busybox_build(engine):.1f} s"))
    from containerlab.engine.images import CACHE_DIR, DEBIAN_IMAGE, build_debian

    if not any(CACHE_DIR.glob("rootfs-*.tar")):
        rows.append(("images: containerlab/debian", "skipped (no cached root filesystem: run setup once first)"))
        return rows
    old = engine.client.api.inspect_image(DEBIAN_IMAGE)["Id"]
    debian = timed(lambda: build_debian(engine, progress=lambda line: None))
    if engine.client.api.inspect_image(DEBIAN_IMAGE)["Id"] != old:
        try:
            engine.client.api.remove_image(old)  # the replaced image, unless a container still uses it
        except Exception:
            pass
    rows.append(("images: containerlab/debian from the cached root filesystem", f"{debian:.1f} s"))
    rows.append(("images: first debootstrap (not timed here)", "about 30-60 s, depends on the mirror"))
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=10, help="Lab.run / CLI pairs (default 10)")
    parser.add_argument("--runs", type=int, default=20, help="runs per SVG render (default 20)")
    parser.add_argument("--reader-runs", type=int, default=3, help="runs of the tarball reader and tar (default 3)")
    parser.add_argument("--skip-nbval", action="store_true", help="do not run the course under nbval")
    parser.add_argument("--skip-setup", action="store_true", help="do not time a fresh setup")
    parser.add_argument("--include-apt", action="store_true", help="also time apt-get install --reinstall docker.io")
    args = parser.parse_args()
    engine = connect()
    print(f"containerlab benchmarks: {engine.summary()}, {os.cpu_count()} CPUs, Python {sys.version.split()[0]}")
    started = time.perf_counter()
    try:
        section("1. Lab.run vs the engine's CLI (busybox, 'true')", lab_run_overhead(engine, args.pairs))
        section("2. The course under nbval", [("skipped", "--skip-nbval")] if args.skip_nbval else course_under_nbval())
        section("3. Image tarball reader vs tar", layer_reader_vs_tar(args.reader_runs))
        section("4. SVG renders", svg_renders(args.runs))
        section("5. Fresh setup", [("skipped", "--skip-setup")] if args.skip_setup
                else fresh_setup(engine, args.include_apt))
    finally:
        from containerlab.engine.lab import remove_labelled

        for owner in (OWNER, f"{OWNER}-nbval"):
            remove_labelled(engine, owner=owner, images=True)
    print(f"\nall figures in {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
