"""Fuzzed kernel files: mountinfo, /proc/PID/cgroup, cgroup controller files, ns links, process status.

Real recorded files, damaged (cut, truncated, pieces replaced) and random text go into every pure
reader of containerlab.kernel; each returns a model or raises the course's own error with a hint.
"""

from __future__ import annotations

import os
from pathlib import Path

from fuzz_support import FUZZ, FUZZ_SLOW, any_text, kernel_text, mutations, returns_or_lab_error
from hypothesis import example, given
from hypothesis import strategies as st

from containerlab.errors import ParseError
from containerlab.kernel.cgroups import (
    cgroup_dirs,
    detect_cgroup_version,
    parse_cpu_max,
    parse_keyed,
    parse_limit,
    parse_proc_cgroup,
    read_cgroup_stats,
    read_pid_cgroup_stats,
    read_proc_cgroup,
)
from containerlab.kernel.mountinfo import (
    filesystems_supported,
    find_mount,
    parse_mountinfo,
    parse_overlay_options,
    read_mountinfo,
    unescape,
)
from containerlab.kernel.namespaces import NAMESPACE_TYPES, parse_ns_link, read_namespaces
from containerlab.kernel.overlay import (
    Change,
    LayerEntry,
    diff_changes,
    history_label,
    image_layer_dirs,
    image_layers,
    layer_change_counts,
    map_lowerdirs,
)
from containerlab.kernel.process import parse_status, read_process

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "kernel"
MOUNTINFOS = sorted(p for p in FIXTURES.rglob("mountinfo") if p.is_file()) + sorted((FIXTURES / "mountinfo").glob("*.txt"))
PROC_CGROUPS = sorted(path for path in FIXTURES.rglob("cgroup") if path.is_file())
STATUS = """Name:\tsleep
Umask:\t0022
State:\tS (sleeping)
Pid:\t48213
PPid:\t48190
Uid:\t0\t0\t0\t0
NSpid:\t48213\t1
VmRSS:\t     568 kB
"""


def _real(paths: list[Path]) -> st.SearchStrategy[str]:
    return st.sampled_from([path.read_text() for path in paths])


damaged_mountinfo = _real(MOUNTINFOS).flatmap(mutations)
damaged_proc_cgroup = _real(PROC_CGROUPS).flatmap(mutations)


def test_the_fixtures_are_there():
    assert len(MOUNTINFOS) >= 5 and len(PROC_CGROUPS) >= 5


# -- mountinfo --------------------------------------------------------------------------------

@FUZZ
@given(st.one_of(damaged_mountinfo, kernel_text, any_text))
@example("36 35 98:0 /mnt1 /mnt\\000x rw - ext3 /dev/root rw")
@example("36 35 98:0 /mnt1 /mnt\0x rw - ext3 /dev/root rw")
def test_mountinfo_text(text):
    mounts = returns_or_lab_error(parse_mountinfo, text)
    if isinstance(mounts, list):
        for mount in mounts:
            assert "\0" not in mount.mount_point + mount.root + mount.source, "a NUL byte in a path"
            returns_or_lab_error(lambda mount=mount: mount.overlay)
            assert isinstance(mount.read_only, bool)
        find_mount(mounts, "/etc/hostname")
        returns_or_lab_error(detect_cgroup_version, text)


@FUZZ
@given(st.lists(kernel_text, max_size=6))
def test_overlay_options(options):
    parsed = parse_overlay_options(options)
    assert all(isinstance(layer, str) for layer in parsed.lowerdirs + parsed.data_lowerdirs)


@FUZZ
@given(any_text)
@example("/mnt\\000evil")
def test_unescape_and_filesystems_never_raise(text):
    assert "\0" not in unescape(text.replace("\0", "")), "unescape made a NUL byte"
    assert isinstance(filesystems_supported(text), set)


@FUZZ_SLOW
@given(st.one_of(damaged_mountinfo, kernel_text))
def test_read_mountinfo_from_a_recorded_proc(tmp_path_factory, text):
    proc = tmp_path_factory.mktemp("proc")
    (proc / "42").mkdir()
    (proc / "42" / "mountinfo").write_text(text)
    returns_or_lab_error(read_mountinfo, 42, proc)


# -- cgroups ----------------------------------------------------------------------------------

@FUZZ
@given(st.one_of(damaged_proc_cgroup, kernel_text, any_text))
@example("0::/system.slice/\0docker.scope")
def test_proc_cgroup_text(text):
    entries = returns_or_lab_error(parse_proc_cgroup, text)
    if isinstance(entries, list):
        assert all(entry.path.startswith("/") for entry in entries)


@FUZZ
@given(st.one_of(kernel_text, any_text, st.sampled_from(["max", "-1", "9223372036854771712", "1e3", " 42\n"])))
def test_single_value_files(text):
    value = returns_or_lab_error(parse_limit, text, "memory.max")
    assert value is None or isinstance(value, (int, ParseError))
    returns_or_lab_error(parse_cpu_max, text)
    returns_or_lab_error(parse_keyed, text, "cpu.stat")


@FUZZ
@given(st.one_of(damaged_proc_cgroup, kernel_text), st.one_of(damaged_mountinfo, kernel_text))
def test_cgroup_dirs_from_damaged_files(cgroup_text, mountinfo_text):
    entries = returns_or_lab_error(parse_proc_cgroup, cgroup_text)
    mounts = returns_or_lab_error(parse_mountinfo, mountinfo_text)
    if isinstance(entries, list) and isinstance(mounts, list):
        dirs = cgroup_dirs(entries, mounts, "/nonexistent-root")
        assert dirs.version in ("v1", "v2", "hybrid", "none")


CGROUP_FILES = ["memory.max", "memory.current", "memory.peak", "memory.events", "cpu.max", "cpu.stat",
                "pids.max", "pids.current", "pids.events", "memory.limit_in_bytes", "memory.oom_control",
                "cpu.cfs_quota_us", "cpuacct.usage"]


@FUZZ_SLOW
@given(st.dictionaries(st.sampled_from(CGROUP_FILES), st.one_of(kernel_text, st.just("max")), max_size=8))
def test_cgroup_stats_from_damaged_controller_files(tmp_path_factory, files):
    directory = tmp_path_factory.mktemp("cgroup")
    for name, text in files.items():
        (directory / name).write_text(text)
    returns_or_lab_error(read_cgroup_stats, directory)
    returns_or_lab_error(read_cgroup_stats, None, {"memory": directory, "cpu": directory, "cpuacct": directory,
                                                   "pids": directory})


@FUZZ_SLOW
@given(st.one_of(damaged_proc_cgroup, kernel_text), st.one_of(damaged_mountinfo, kernel_text))
def test_cgroup_stats_of_a_recorded_process(tmp_path_factory, cgroup_text, mountinfo_text):
    proc = tmp_path_factory.mktemp("proc")
    for pid, name, text in (("7", "cgroup", cgroup_text), ("self", "mountinfo", mountinfo_text)):
        (proc / pid).mkdir(exist_ok=True)
        (proc / pid / name).write_text(text)
    returns_or_lab_error(read_pid_cgroup_stats, 7, proc, proc / "root")


@FUZZ_SLOW
@given(st.binary(max_size=200), st.sampled_from(["status", "mountinfo", "cgroup"]),
       st.sampled_from([b"", b"\xff\xfe", b"caf\xe9", b"\xc2\x85", b"\xe2\x80\xa8", b"\x1c"]))
def test_kernel_files_of_any_bytes(tmp_path_factory, data, name, odd):
    """Real kernel files hold any bytes in names: every reader keeps them (surrogateescape) or says why not."""
    proc = tmp_path_factory.mktemp("proc")
    (proc / "3").mkdir()
    (proc / "3" / "cmdline").write_bytes(b"x\0" + odd)
    good = {"status": b"Name:\tx" + odd + b"\nPid:\t3\n", "mountinfo": b"1 0 0:1 / /m" + odd + b" rw - ext4 s rw\n",
            "cgroup": b"0::/a" + odd + b"\n"}[name]
    for content in (data, good):
        (proc / "3" / name).write_bytes(content)
        reader = {"status": read_process, "mountinfo": read_mountinfo, "cgroup": read_proc_cgroup}[name]
        result = returns_or_lab_error(reader, 3, proc)
        if content is good:
            assert not isinstance(result, ParseError), result
            text = {"status": lambda r: r.name, "mountinfo": lambda r: r[0].mount_point,
                    "cgroup": lambda r: r[0].path}[name](result)
            assert text.encode("utf-8", "surrogateescape").endswith(odd), "the kernel's bytes were not kept"


cgroup_paths = st.lists(st.sampled_from(["a", "..", ".", "", "b", "x.scope"]), max_size=8).map(
    lambda parts: "/" + "/".join(parts))


@FUZZ
@given(cgroup_paths, st.sampled_from(["/", "/a", "/a/b", "/.."]))
@example("/../../../etc", "/")
@example("/a/../../etc", "/a")
def test_cgroup_paths_never_map_outside_their_mount(path, mount_root):
    mounts = parse_mountinfo(f"30 25 0:26 {mount_root} /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n")
    dirs = cgroup_dirs(parse_proc_cgroup(f"0::{path}\n"), mounts)
    if dirs.v2 is not None:
        assert os.path.normpath(dirs.v2) == dirs.v2.rstrip("/") or dirs.v2 == "/sys/fs/cgroup"
        assert (os.path.normpath(dirs.v2) + "/").startswith("/sys/fs/cgroup/"), dirs.v2


# -- namespaces -------------------------------------------------------------------------------

ns_links = st.one_of(kernel_text, st.builds(lambda kind, number: f"{kind}:[{number}]",
                                            st.sampled_from(NAMESPACE_TYPES + ("", "x y")),
                                            st.one_of(st.integers(0, 2**70).map(str), kernel_text)))


@FUZZ
@given(ns_links)
def test_ns_link(link):
    inode = returns_or_lab_error(parse_ns_link, link)
    assert isinstance(inode, (int, ParseError))


@FUZZ_SLOW
@given(st.dictionaries(st.sampled_from(NAMESPACE_TYPES), ns_links.filter(lambda t: "\x00" not in t and t), max_size=8))
def test_read_namespaces_of_a_recorded_process(tmp_path_factory, links):
    proc = tmp_path_factory.mktemp("proc")
    ns = proc / "9" / "ns"
    ns.mkdir(parents=True)
    for kind, target in links.items():
        os.symlink(target, ns / kind)
    found = returns_or_lab_error(read_namespaces, 9, proc)
    if not isinstance(found, ParseError):
        assert set(found.inodes) == set(NAMESPACE_TYPES)


# -- process status ---------------------------------------------------------------------------

@FUZZ
@given(st.one_of(mutations(STATUS), kernel_text, any_text), st.binary(max_size=80))
def test_process_status(text, cmdline):
    status = returns_or_lab_error(parse_status, text, cmdline)
    if not isinstance(status, ParseError):
        assert isinstance(status.command, str) and isinstance(status.innermost_pid, int)


@FUZZ_SLOW
@given(st.one_of(mutations(STATUS), kernel_text), st.binary(max_size=80))
def test_read_process_from_a_recorded_proc(tmp_path_factory, text, cmdline):
    proc = tmp_path_factory.mktemp("proc")
    (proc / "5").mkdir()
    (proc / "5" / "status").write_text(text)
    (proc / "5" / "cmdline").write_bytes(cmdline)
    returns_or_lab_error(read_process, 5, proc)


# -- overlay and image-layer facts ------------------------------------------------------------

json_scalars = st.one_of(st.none(), st.booleans(), st.integers(-5, 2**40), st.text(max_size=20))
json_values = st.recursive(json_scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=10), inner, max_size=4)), max_leaves=12)
config_like = st.fixed_dictionaries({}, optional={
    "rootfs": st.one_of(json_values, st.fixed_dictionaries({"diff_ids": st.lists(json_scalars, max_size=4)})),
    "history": st.one_of(json_values, st.lists(st.dictionaries(
        st.sampled_from(["created_by", "empty_layer", "comment"]), json_scalars, max_size=3), max_size=5)),
})


@FUZZ
@given(config_like, st.one_of(st.none(), st.lists(st.dictionaries(st.just("Size"), st.integers(0, 99)), max_size=5)))
@example({"rootfs": {"diff_ids": True}}, None)
@example({"rootfs": {"diff_ids": ["sha256:a"]}, "history": ["RUN x"]}, None)
@example({"rootfs": {"diff_ids": ["sha256:a"]}, "history": [{"created_by": 5}]}, None)
@example({"rootfs": {"diff_ids": ["sha256:a"]}, "history": [{}]}, [{"Size": "big"}])
def test_image_layers_from_odd_configs(config, history):
    layers = returns_or_lab_error(image_layers, config, history)
    if isinstance(layers, list):
        for layer in layers:
            assert isinstance(layer.label, str)


@FUZZ
@given(st.one_of(json_values, st.fixed_dictionaries({"Data": st.dictionaries(
    st.sampled_from(["UpperDir", "LowerDir"]), json_scalars, max_size=2)})))
@example({"Data": {"UpperDir": True, "LowerDir": True}})
@example({"Data": ["UpperDir"]})
def test_image_layer_dirs_from_odd_inspect_data(graph_driver):
    if isinstance(graph_driver, dict):
        returns_or_lab_error(image_layer_dirs, graph_driver)


@FUZZ
@given(st.one_of(st.none(), st.lists(json_values, max_size=4), st.lists(st.fixed_dictionaries(
    {"Path": st.text(max_size=10), "Kind": st.integers(-1, 3)}), max_size=4)))
def test_docker_diff_answers(diff):
    changes = returns_or_lab_error(diff_changes, diff)
    if isinstance(changes, list):
        assert all(isinstance(change, Change) for change in changes)


@FUZZ
@given(any_text, any_text)
def test_history_label_never_raises(created_by, comment):
    assert isinstance(history_label(created_by, comment), str)


@FUZZ
@given(st.lists(st.text(max_size=8), max_size=5), st.lists(st.text(max_size=8), max_size=5))
def test_lowerdir_mapping(lowerdirs, layer_dirs):
    layers = image_layers({"rootfs": {"diff_ids": [f"sha256:{i}" for i in range(len(layer_dirs))]}})
    returns_or_lab_error(map_lowerdirs, lowerdirs, layer_dirs, layers)
    returns_or_lab_error(map_lowerdirs, lowerdirs, layer_dirs, layers[:-1] if layers else layers + layers)


@FUZZ
@given(st.lists(st.lists(st.builds(LayerEntry, st.text("ab/.", max_size=6),
                                   st.sampled_from(["file", "dir", "whiteout", "symlink"]), st.booleans()),
                         max_size=6), max_size=4))
def test_layer_change_counts(layers):
    counts = layer_change_counts(layers)
    assert len(counts) == len(layers)
    assert all(min(c.added, c.changed, c.deleted) >= 0 for c in counts)
