"""The course's diagrams: containers vs VMs, user mode vs kernel mode, a status board."""

from __future__ import annotations

from collections.abc import Sequence

from .svg import PALETTE, Diagram, Svg, Tone, num, text_width, truncate, wrap

_MAX_BOXES = 4
_GAP = 8
_BAND = 34
_HEAD = 38.0


def _box(svg: Svg, x: float, y: float, w: float, h: float, tone: Tone, label: str, *,
         size: float = 12, bold: bool = True, stroke_width: float = 1.0) -> None:
    """A rounded box with one centred label, shortened to fit."""
    svg.rect(x, y, w, h, fill=tone.fill, stroke=tone.stroke, stroke_width=stroke_width, rx=5)
    svg.text(x + w / 2, y + h / 2, truncate(label, w - 12, size, bold=bold), size=size,
             fill=tone.ink, bold=bold, anchor="middle", middle=True)


def _name_lines(name: str, width: float) -> tuple[list[str], float]:
    """A box title on one line, or split at a separator onto two smaller lines."""
    if text_width(name, 12.5, bold=True) <= width:
        return [name], 12.5
    cuts = [i + 1 for i, ch in enumerate(name[:-1]) if ch in "-_.:/ @"]
    if cuts:
        cut = min(cuts, key=lambda i: abs(len(name) / 2 - i))
        parts = [name[:cut], name[cut:]]
    else:
        parts = [name[: (len(name) + 1) // 2], name[(len(name) + 1) // 2:]]
    return [truncate(part, width, 11, bold=True, middle=True) for part in parts], 11.0


def _stack_height(layers: int) -> float:
    return _HEAD + layers * (34 + _GAP) + 2


def _stacked(svg: Svg, x: float, y: float, w: float, tone: Tone, name: str,
             layers: Sequence[tuple[str, Tone]]) -> None:
    """A named box holding a stack of layers, top first."""
    h = _stack_height(len(layers))
    svg.rect(x, y, w, h, fill=tone.fill, stroke=tone.stroke, stroke_width=1.5, rx=6)
    lines, size = _name_lines(name, w - 12)
    first = y + (20 if len(lines) == 1 else 13)
    for i, line in enumerate(lines):
        svg.text(x + w / 2, first + i * 13, line, size=size, bold=True, fill=tone.ink,
                 anchor="middle", middle=True)
    for i, (label, layer_tone) in enumerate(layers):
        _box(svg, x + 7, y + _HEAD + i * (34 + _GAP), w - 14, 34, layer_tone, label, bold=False)


def _shown(names: Sequence[str]) -> tuple[list[str], int]:
    """At most ``_MAX_BOXES`` names; when there are more, the last slot says how many are hidden."""
    names = list(names)
    if len(names) <= _MAX_BOXES:
        return names, 0
    return names[: _MAX_BOXES - 1], len(names) - (_MAX_BOXES - 1)


def _slots(x: float, width: float, count: int) -> list[tuple[float, float]]:
    """Split ``width`` into ``count`` equal boxes with gaps: (x, w) pairs."""
    w = (width - _GAP * (count - 1)) / count
    return [(x + i * (w + _GAP), w) for i in range(count)]


def _listing(names: Sequence[str]) -> str:
    return ", ".join(names) if names else "none"


def containers_vs_vms(containers: Sequence[str] = ("web", "db", "worker"),
                      vms: Sequence[str] = ("vm-1", "vm-2"), *,
                      engine: str = "Docker / Podman") -> Diagram:
    """Containers share one host kernel; every VM boots its own. Names label the boxes."""
    p = PALETTE
    containers, vms = [str(c) for c in containers], [str(v) for v in vms]
    width, height = 940.0, 436.0
    panel_w, left_x, right_x = 434.0, 24.0, 482.0
    hw_y = 320.0
    kernel_y = hw_y - _GAP - _BAND
    svg = Svg(width, height, "Containers vs virtual machines",
              description="Containers share the host kernel; each virtual machine boots its own kernel.")
    svg.text(24, 36, "Containers vs virtual machines", size=19, bold=True)
    svg.line(width / 2, 56, width / 2, hw_y + _BAND, stroke=p.border, dashed=True)

    # Left: containers straight on the one host kernel; the engine is just a host process.
    svg.text(left_x, 70, "Containers", size=15, bold=True, fill=p.container.ink)
    svg.text(left_x, 88, "isolated processes on one shared kernel", size=12, fill=p.muted)
    row_h = _stack_height(2)
    row_y = kernel_y - _GAP - row_h
    engine_w = 92.0
    with svg.group(f"container engine: {engine} (a host process that sets containers up)"):
        svg.rect(left_x, row_y, engine_w, row_h, fill=p.host.fill, stroke=p.host.stroke, rx=6)
        svg.text(left_x + engine_w / 2, row_y + 22, "engine", size=12, bold=True,
                 fill=p.host.ink, anchor="middle")
        for i, line in enumerate(wrap(engine, engine_w - 12, 11)[:3]):
            svg.text(left_x + engine_w / 2, row_y + 42 + i * 15, line, size=11,
                     fill=p.host.ink, anchor="middle")
        svg.text(left_x + engine_w / 2, row_y + row_h - 14, "host process", size=10.5,
                 italic=True, fill=p.muted, anchor="middle")
    area_x = left_x + engine_w + 10
    area_w = panel_w - engine_w - 10
    bracket_y = row_y - 12
    svg.path(f"M{num(area_x + 2)} {num(bracket_y + 6)}V{num(bracket_y)}H{num(area_x + area_w - 2)}"
             f"V{num(bracket_y + 6)}", stroke=p.isolated.stroke, width=1.2)
    label_w = text_width("separate user spaces", 12) + 16
    svg.rect(area_x + (area_w - label_w) / 2, bracket_y - 9, label_w, 18, fill=p.background)
    svg.text(area_x + area_w / 2, bracket_y, "separate user spaces", size=12, italic=True,
             fill=p.isolated.ink, anchor="middle", middle=True)
    names, hidden = _shown(containers)
    slots = _slots(area_x, area_w, max(1, len(names) + (1 if hidden else 0)))
    for (x, w), name in zip(slots, names):
        with svg.group(f"container {name}: its own app and libraries, no kernel"):
            _stacked(svg, x, row_y, w, p.container, name, [("app", p.plain), ("libs", p.plain)])
    if hidden:
        x, w = slots[-1]
        svg.rect(x, row_y, w, row_h, fill=p.background, stroke=p.container.stroke, rx=6, dashed=True)
        svg.text(x + w / 2, row_y + row_h / 2, f"+{hidden} more", size=12, fill=p.container.ink,
                 anchor="middle", middle=True)
    if not names:
        svg.rect(area_x, row_y, area_w, row_h, fill=p.background, stroke=p.faint, rx=6, dashed=True)
        svg.text(area_x + area_w / 2, row_y + row_h / 2, "no containers", size=12, fill=p.muted,
                 anchor="middle", middle=True)
    with svg.group("the host kernel: one, shared by every container"):
        _box(svg, left_x, kernel_y, panel_w, _BAND, p.shared, "Host Linux kernel: one, shared",
             size=13, stroke_width=2)
    _box(svg, left_x, hw_y, panel_w, _BAND, p.hardware, "Hardware", size=13)

    # Right: a hypervisor under VMs that each carry a whole guest operating system.
    svg.text(right_x, 70, "Virtual machines", size=15, bold=True, fill=p.vm.ink)
    svg.text(right_x, 88, "each boots its own kernel on virtual hardware", size=12, fill=p.muted)
    vm_h = _stack_height(3)
    hyp_y = kernel_y
    vm_y = hyp_y - _GAP - vm_h
    names_vm, hidden_vm = _shown(vms)
    slots = _slots(right_x, panel_w, max(1, len(names_vm) + (1 if hidden_vm else 0)))
    for (x, w), name in zip(slots, names_vm):
        with svg.group(f"virtual machine {name}: app, libraries and its own guest kernel"):
            _stacked(svg, x, vm_y, w, p.vm, name,
                     [("app", p.plain), ("libs", p.plain), ("guest kernel", p.kernel)])
    if hidden_vm:
        x, w = slots[-1]
        svg.rect(x, vm_y, w, vm_h, fill=p.background, stroke=p.vm.stroke, rx=6, dashed=True)
        svg.text(x + w / 2, vm_y + vm_h / 2, f"+{hidden_vm} more", size=12, fill=p.vm.ink,
                 anchor="middle", middle=True)
    if not names_vm:
        svg.rect(right_x, vm_y, panel_w, vm_h, fill=p.background, stroke=p.faint, rx=6, dashed=True)
        svg.text(right_x + panel_w / 2, vm_y + vm_h / 2, "no virtual machines", size=12,
                 fill=p.muted, anchor="middle", middle=True)
    _box(svg, right_x, hyp_y, panel_w, _BAND, p.vm, "Hypervisor: virtual hardware per VM", size=13)
    _box(svg, right_x, hw_y, panel_w, _BAND, p.hardware, "Hardware", size=13)

    captions = [
        (p.shared.stroke, "Containers share the host kernel: starting one starts processes, "
                          "not an operating system."),
        (p.vm.stroke, "Each VM boots its own guest kernel on virtual hardware that the "
                      "hypervisor provides."),
    ]
    for i, (colour, line) in enumerate(captions):
        y = hw_y + _BAND + 34 + i * 22
        svg.rect(24, y - 10, 10, 10, fill=colour, rx=2)
        svg.text(42, y, line, size=13)

    summary = (
        f"Containers vs VMs: {len(containers)} container(s) ({_listing(containers)}) share one "
        f"host kernel; {len(vms)} VM(s) ({_listing(vms)}) each boot their own kernel."
    )
    return Diagram(svg.to_string(), summary)


_LAYERS = ("applications", "system", "libc", "container", "syscalls", "kernel",
           "namespaces", "cgroups", "hardware")
_DEFAULT_SYSCALLS = ("read", "write", "openat", "stat", "mmap", "clone", "execve", "exit")


def user_kernel_split(highlight: str | None = None,
                      syscalls: Sequence[str] | None = None) -> Diagram:
    """User mode above the system call interface, the host's kernel below; a container is
    only the user-mode part. ``highlight`` names one layer; ``syscalls`` label the interface."""
    if highlight is not None and highlight not in _LAYERS:
        raise ValueError(f"unknown layer {highlight!r}; choose one of: {', '.join(_LAYERS)}")
    p = PALETTE
    calls = [str(c) for c in (_DEFAULT_SYSCALLS if syscalls is None else syscalls)]
    # Layout, top to bottom: everything is placed from these numbers.
    region_x, region_r = 24.0, 916.0
    x0, x1 = 68.0, 904.0
    user_y, row_h, row_gap = 54.0, 56.0, 8.0
    row_y = [user_y + 36 + i * (row_h + row_gap) for i in range(3)]
    user_h = row_y[2] + row_h + 14 - user_y
    k_y = user_y + user_h + 24
    sci_y, sci_h = k_y + 12, 58.0
    kk_y = sci_y + sci_h + 12
    sub_y = kk_y + 34
    feat_y = sub_y + 50 + 28
    other_y = feat_y + 50 + 20
    kernel_bottom = other_y + 18
    k_h = kernel_bottom + 12 - k_y
    hw_y = k_y + k_h + 10
    width, height = 940.0, hw_y + 36 + 74
    svg = Svg(width, height, "User mode and kernel mode",
              description="A container holds only the user-mode part, app and libraries; "
                          "the kernel below the system call interface is the host's.")

    def stroke_for(layer: str, tone: Tone, base: float = 1.0) -> tuple[str, float]:
        return (p.highlight, 3.0) if layer == highlight else (tone.stroke, base)

    def mode_region(y: float, h: float, fill: str, label: str) -> None:
        svg.rect(region_x, y, region_r - region_x, h, fill=fill, stroke=p.border, rx=6)
        svg.text(46, y + h / 2, label, size=12, bold=True, fill=p.muted, anchor="middle",
                 middle=True, rotate=-90)

    svg.text(24, 36, "User mode and kernel mode: what a container contains", size=19, bold=True)

    # User mode: the host's user space on the left, one container's on the right.
    mode_region(user_y, user_h, "#f8fafc", "USER MODE")
    host_x, host_w, label_w = x0, 530.0, 172.0
    ctr_x = host_x + host_w + 32
    ctr_w = x1 - 10 - ctr_x
    svg.text(host_x, user_y + 24, "Host user space", size=12.5, bold=True, fill=p.muted)
    rows = [
        ("applications", "Applications", "bash, python, sshd, Firefox, LibreOffice, Blender, ..."),
        ("system", "System components", "daemons: systemd, logind, networkd; display: X11, "
                                        "Wayland; libraries: GTK, Qt, SDL; graphics: Mesa"),
        ("libc", "C standard library", "open() exec() sbrk() socket() fopen() calloc() ...; "
                                       "glibc, musl, uClibc, bionic"),
    ]
    for (layer, label, detail), y in zip(rows, row_y):
        stroke, sw = stroke_for(layer, p.host)
        with svg.group(f"{label}: {detail}"):
            svg.rect(host_x, y, host_w, row_h, fill=p.host.fill, stroke=stroke, stroke_width=sw, rx=5)
            svg.text(host_x + 12, y + row_h / 2, label, size=13, bold=True, fill=p.host.ink,
                     middle=True)
            lines = wrap(detail, host_w - label_w - 24, 11.5)[:2]
            top = y + row_h / 2 - (len(lines) - 1) * 8
            for i, line in enumerate(lines):
                svg.text(host_x + label_w + 12, top + i * 16, line, size=11.5, fill=p.muted,
                         middle=True)

    stroke, sw = stroke_for("container", p.isolated, 1.5)
    with svg.group("a container: only the user-mode part, its own app and libraries"):
        svg.rect(ctr_x - 10, user_y + 8, ctr_w + 20, user_h - 16, fill=p.isolated.fill,
                 stroke=stroke, stroke_width=sw, rx=8, dashed=True)
        svg.text(ctr_x, user_y + 26, "A container = app + libs", size=12.5, bold=True,
                 fill=p.isolated.ink)
        _box(svg, ctr_x, row_y[0], ctr_w, row_h, p.container, "app: nginx, python, your code")
        for i, line in enumerate(["usually no init, no desktop:", "just what the app needs"]):
            svg.text(ctr_x + ctr_w / 2, row_y[1] + 20 + i * 17, line, size=11.5, italic=True,
                     fill=p.isolated.ink, anchor="middle", middle=True)
        _box(svg, ctr_x, row_y[2], ctr_w, row_h, p.container, "libs: its own glibc or musl")

    # Kernel mode: the system call interface is its only door.
    mode_region(k_y, k_h, "#fffaf0", "KERNEL MODE")
    for x in (host_x + host_w / 2, ctr_x + ctr_w / 2):
        svg.arrow(x, row_y[2] + row_h + 2, x, sci_y - 2, stroke=p.ink, width=1.5)
        svg.text(x + 8, (user_y + user_h + k_y) / 2, "system calls", size=11, italic=True,
                 fill=p.muted, middle=True)
    stroke, sw = stroke_for("syscalls", p.shared, 1.5)
    with svg.group("system call interface: " + ", ".join(calls)):
        svg.rect(x0, sci_y, x1 - x0, sci_h, fill=p.shared.fill, stroke=stroke, stroke_width=sw, rx=5)
        svg.text(x0 + 12, sci_y + 24, "System call interface", size=13, bold=True, fill=p.shared.ink)
        svg.text(x0 + 12, sci_y + 43, "about 380 calls: the only way in", size=11.5,
                 fill=p.shared.ink)
        cx, cy = x0 + 250, sci_y + sci_h / 2
        for i, call in enumerate(calls):
            w = text_width(call, 12, mono=True) + 14
            rest = len(calls) - i - 1
            reserve = text_width(f"+{rest} more", 11.5) + 6 if rest else 0
            if cx + w + reserve > x1 - 12:
                svg.text(cx, cy, f"+{rest + 1} more", size=11.5, fill=p.shared.ink, middle=True)
                break
            svg.rect(cx, cy - 12, w, 24, fill=p.background, stroke=p.shared.stroke, rx=12)
            svg.text(cx + w / 2, cy, call, size=12, mono=True, fill=p.shared.ink,
                     anchor="middle", middle=True)
            cx += w + 6
        if not calls:
            svg.text(cx, cy, "(no system calls given)", size=11.5, italic=True, fill=p.muted,
                     middle=True)

    stroke, sw = stroke_for("kernel", p.kernel)
    with svg.group("the Linux kernel: the host's, shared by every container"):
        svg.rect(x0, kk_y, x1 - x0, kernel_bottom - kk_y, fill="none", stroke=stroke,
                 stroke_width=sw, rx=6)
        svg.text(x0 + 12, kk_y + 22, "Linux kernel: the host's, one for everyone", size=13,
                 bold=True, fill=p.kernel.ink)
    subsystems = [
        ("Process scheduling", "who runs, on which CPU"),
        ("IPC", "pipes, signals, shared memory"),
        ("Memory management", "pages, mmap, swap"),
        ("Virtual files", "VFS, ext4, overlayfs, /proc"),
    ]
    for (x, w), (label, detail) in zip(_slots(x0 + 12, x1 - x0 - 24, 4), subsystems):
        with svg.group(f"{label} subsystem: {detail}"):
            svg.rect(x, sub_y, w, 50, fill=p.kernel.fill, stroke=p.kernel.stroke, rx=5)
            svg.text(x + w / 2, sub_y + 21, truncate(label, w - 10, 12.5, bold=True), size=12.5,
                     bold=True, fill=p.kernel.ink, anchor="middle")
            svg.text(x + w / 2, sub_y + 39, truncate(detail, w - 10, 11), size=11, fill=p.muted,
                     anchor="middle")
    svg.text(x0 + 12, feat_y - 9, "the kernel features containers are made of", size=11.5,
             italic=True, bold=True, fill=p.isolated.ink)
    features = [
        ("namespaces", "Namespaces", "what a process can see: pid, net, ipc, mnt, uts, user, cgroup"),
        ("cgroups", "cgroups", "how much it can use: cpu, memory, pids, io"),
    ]
    for (x, w), (layer, label, detail) in zip(_slots(x0 + 12, x1 - x0 - 24, 2), features):
        stroke, sw = stroke_for(layer, p.isolated, 1.5)
        with svg.group(f"{label}: {detail}"):
            svg.rect(x, feat_y, w, 50, fill=p.isolated.fill, stroke=stroke, stroke_width=sw, rx=5)
            svg.text(x + 12, feat_y + 21, label, size=13, bold=True, fill=p.isolated.ink)
            svg.text(x + 12, feat_y + 39, truncate(detail, w - 24, 11.5), size=11.5,
                     fill=p.isolated.ink)
    svg.text(x0 + 12, other_y, truncate(
        "also: networking, Netfilter, device mapper, ALSA, DRI; security modules: SELinux, AppArmor",
        x1 - x0 - 24, 11.5), size=11.5, fill=p.muted, middle=True)

    stroke, sw = stroke_for("hardware", p.hardware)
    svg.rect(region_x, hw_y, region_r - region_x, 36, fill=p.hardware.fill, stroke=stroke,
             stroke_width=sw, rx=5)
    svg.text((region_x + region_r) / 2, hw_y + 18, "Hardware: CPU, main memory, storage, network",
             size=13, bold=True, fill=p.hardware.ink, anchor="middle", middle=True)
    captions = [
        "A container packages only the user-mode part: its app and its libraries.",
        "Every system call it makes lands in the host's kernel, where namespaces and cgroups "
        "isolate and limit it.",
    ]
    for i, line in enumerate(captions):
        svg.text(24, hw_y + 36 + 30 + i * 20, line, size=13)

    summary = ("User mode (applications, system components, C library) | system call interface | "
               "kernel mode (scheduling, IPC, memory, virtual files, namespaces, cgroups) | hardware.\n"
               "A container holds only the user-mode part (app + libs); the kernel is the host's.")
    if highlight:
        summary += f"\nHighlighted: {highlight}."
    if syscalls is not None:
        summary += f"\nSystem calls shown: {_listing(calls)}."
    return Diagram(svg.to_string(), summary)


_STATUS_MARK = {"ok": "✓", "warn": "!", "fail": "✕", "skip": "–"}


def checklist(items: Sequence[tuple[str, str, str]], title: str) -> Diagram:
    """A status board: one row per (status, label, detail); status is ok, warn, fail or skip."""
    p = PALETTE
    colours = {"ok": p.ok, "warn": p.warn, "fail": p.fail, "skip": p.skip}
    rows = [(str(s), str(label), str(detail)) for s, label, detail in items]
    for status, label, _ in rows:
        if status not in colours:
            raise ValueError(f"{label}: unknown status {status!r}; use one of: {', '.join(colours)}")
    width = 720.0
    label_w = min(220.0, max([text_width(r[1], 13, bold=True) for r in rows] + [60.0]))
    detail_x = 52 + label_w + 18
    details = [wrap(d, width - detail_x - 20, 12.5)[:3] if d else [] for _, _, d in rows]
    heights = [max(1, len(lines)) * 17 + 17 for lines in details]
    top = 62.0
    height = top + (sum(heights) or 34) + 48
    svg = Svg(width, height, title)
    svg.text(24, 36, truncate(title, width - 48, 18, bold=True), size=18, bold=True)
    y = top
    for i, ((status, label, detail), lines, h) in enumerate(zip(rows, details, heights)):
        with svg.group(f"{label}: {status}" + (f", {detail}" if detail else "")):
            if i % 2 == 0:
                svg.rect(14, y, width - 28, h, fill="#f6f7f9", rx=5)
            cy = y + 8.5 + 8.5
            svg.circle(34, cy, 9, fill=colours[status])
            svg.text(34, cy, _STATUS_MARK[status], size=11, bold=True, fill="#ffffff",
                     anchor="middle", middle=True)
            svg.text(52, cy, truncate(label, label_w, 13, bold=True), size=13, bold=True, middle=True)
            for j, line in enumerate(lines):
                svg.text(detail_x, cy + j * 17, line, size=12.5, fill=p.muted, middle=True)
        y += h
    if not rows:
        svg.text(24, y + 17, "nothing to check", size=13, italic=True, fill=p.muted, middle=True)
        y += 34
    counts = [f"{sum(1 for r in rows if r[0] == s)} {s}" for s in colours]
    svg.text(24, y + 30, "  ·  ".join(counts), size=12, fill=p.muted)
    summary = "\n".join([title, *(f"{label}: {status}" for status, label, _ in rows)])
    return Diagram(svg.to_string(), summary)
