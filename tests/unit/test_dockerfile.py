"""Dockerfile parsing (BuildKit's rules), instruction <-> history mapping, and the best-practice linter."""

from __future__ import annotations

import json
from pathlib import Path
from textwrap import dedent

import pytest

from containerlab.errors import ParseError
from containerlab.images.dockerfile import (
    Finding,
    Heredoc,
    expand,
    lint,
    map_to_history,
    parse_dockerfile,
)
from containerlab.images.manifest import parse_config

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "images"

# The Dockerfile engine/images.py builds containerlab/busybox from (recorded config in the fixtures).
BUSYBOX_DOCKERFILE = """\
FROM scratch
COPY busybox /bin/busybox
RUN ["/bin/busybox", "--install", "-s", "/bin"]
COPY etc/ /etc/
RUN ["/bin/mkdir", "-p", "/tmp", "/root", "/home", "/var", "/proc", "/sys", "/dev"]
ENV PATH=/bin
CMD ["sh"]
"""


def parse(text: str, **options):
    return parse_dockerfile(dedent(text), **options)


def test_instructions_lines_continuations_and_comments():
    dockerfile = parse("""\
        # a comment before anything
        from debian:bookworm

        run apt-get update && \\
            # a comment inside the continuation is dropped
            apt-get install -y curl \\
            && echo done
        Copy . /app
        """)
    keywords = [(i.keyword, i.line, i.end_line) for i in dockerfile.instructions]
    assert keywords == [("FROM", 2, 2), ("RUN", 4, 7), ("COPY", 8, 8)]
    run = dockerfile.instructions[1]
    assert " ".join(run.command.split()) == "apt-get update && apt-get install -y curl && echo done"
    assert not run.json_form and run.creates_layer and run.stage == 0
    assert str(run).startswith("line 4: RUN apt-get update")
    assert dockerfile.directives == {} and dockerfile.escape == "\\" and dockerfile.syntax == ""


def test_parser_directives():
    dockerfile = parse("""\
        # syntax=docker/dockerfile:1.7
        # check=skip=JSONArgsRecommended
        # escape=`
        FROM mcr.microsoft.com/windows/servercore
        COPY C:\\app\\ C:\\dest\\
        RUN dir `
            C:\\dest
        """)
    assert dockerfile.syntax == "docker/dockerfile:1.7" and dockerfile.escape == "`"
    assert dockerfile.directives["check"] == "skip=JSONArgsRecommended"
    copy, run = dockerfile.instructions[1:]
    assert copy.args == ("C:\\app\\", "C:\\dest\\")
    assert run.line == 6 and run.end_line == 7 and " ".join(run.command.split()) == "dir C:\\dest"
    late = parse("""\
        # hello
        # escape=`
        FROM scratch
        """)
    assert late.directives == {} and late.escape == "\\"  # after a comment, directives are just comments
    with pytest.raises(ParseError, match="line 2: the parser directive 'syntax' is given twice"):
        parse("# syntax=a\n# syntax=b\nFROM scratch\n")
    with pytest.raises(ParseError, match="escape directive"):
        parse("# escape=x\nFROM scratch\n")


def test_json_and_shell_forms():
    dockerfile = parse("""\
        FROM scratch
        RUN ["/bin/busybox", "--install", "-s", "/bin"]
        RUN [not json
        CMD ["sh", "-c", "echo $HOME"]
        ENTRYPOINT exec /init
        SHELL ["/bin/ash", "-eo", "pipefail", "-c"]
        VOLUME ["/data", "/logs"]
        VOLUME /cache /tmp/x
        HEALTHCHECK --interval=5s --retries=3 CMD ["wget", "-q", "localhost"]
        HEALTHCHECK NONE
        """)
    runs = dockerfile.instructions[1:]
    assert runs[0].json_form and runs[0].args == ("/bin/busybox", "--install", "-s", "/bin")
    assert runs[0].command == "/bin/busybox --install -s /bin"
    assert not runs[1].json_form and runs[1].args == ("[not json",)
    assert runs[2].json_form and runs[2].args == ("sh", "-c", "echo $HOME")  # not substituted: the shell does it
    assert not runs[3].json_form and runs[3].command == "exec /init"
    assert runs[4].args == ("/bin/ash", "-eo", "pipefail", "-c")
    assert runs[5].args == ("/data", "/logs") and runs[6].args == ("/cache", "/tmp/x")
    assert runs[7].args == ("CMD", "wget", "-q", "localhost") and runs[7].flag("interval") == "5s"
    assert runs[8].args == ("NONE",)
    with pytest.raises(ParseError, match="SHELL must be written in JSON form"):
        parse("FROM scratch\nSHELL /bin/bash -c\n")


def test_heredocs():
    text = (
        "# syntax=docker/dockerfile:1\n"
        "FROM debian\n"
        "ARG NAME=world\n"
        "RUN <<EOF\n"
        "apt-get update\n"
        "apt-get install -y curl\n"
        "EOF\n"
        "RUN <<-EOT bash -e\n"
        "\techo tabs stripped\n"
        "\tEOT\n"
        "COPY <<EOF /etc/greeting\n"
        "hello ${NAME} \"quoted\"\n"
        "EOF\n"
        "COPY <<'RAW' <<OTHER /etc/\n"
        "keep ${NAME}\n"
        "RAW\n"
        "other $NAME\n"
        "OTHER\n"
        "RUN cat <<<\"here-string\" && echo no heredoc\n"
        "RUN [\"sh\", \"-c\", \"cat <<EOF\"]\n"
    )
    dockerfile = parse_dockerfile(text)
    run, tabs, greeting, two, here_string, exec_form = dockerfile.instructions[2:]
    assert (run.line, run.end_line) == (4, 7)
    assert run.heredocs == (Heredoc("EOF", "apt-get update\napt-get install -y curl\n", True, False, 5),)
    assert "apt-get install" in run.script
    assert tabs.heredocs[0].body == "echo tabs stripped\n" and tabs.heredocs[0].strip_tabs
    assert tabs.command == "<<-EOT bash -e"
    assert greeting.heredocs[0].body == 'hello world "quoted"\n'  # COPY expands unquoted heredocs
    assert greeting.args == ("<<EOF", "/etc/greeting") and greeting.destination == "/etc/greeting"
    assert [(d.name, d.body, d.expand) for d in two.heredocs] == [("RAW", "keep ${NAME}\n", False),
                                                                  ("OTHER", "other world\n", True)]
    assert (two.line, two.end_line) == (14, 18)
    assert here_string.heredocs == () and exec_form.heredocs == ()
    assert here_string.line == 19 and exec_form.line == 20


def test_unterminated_heredoc_and_continuation():
    with pytest.raises(ParseError, match="line 2: the heredoc <<EOF starting here is never closed") as caught:
        parse_dockerfile("FROM scratch\nRUN <<EOF\necho hi\n")
    assert "line containing only EOF" in caught.value.hint
    # a continuation at the end of the file ends the instruction there, as BuildKit does (it used to be refused)
    run = parse_dockerfile("FROM scratch\n\nRUN echo a && \\\n    # only a comment follows\n").instructions[1]
    assert (run.keyword, run.line, run.end_line, run.command) == ("RUN", 3, 4, "echo a &&")


def test_lines_are_joined_as_buildkit_joins_them():
    """Blank and comment lines inside a continuation are skipped; an escaped escape ends the line; any
    whitespace after the keyword; indented directives count (each was once a divergence from BuildKit)."""
    dockerfile = parse_dockerfile("FROM\tdebian:bookworm\nRUN apt-get update && \\\n\n   \n  # note\n"
                                  "    apt-get install -y curl\nRUN echo C:\\\\\nRUN\ttrue\n")
    assert [(i.keyword, i.line, i.end_line) for i in dockerfile.instructions] == [
        ("FROM", 1, 1), ("RUN", 2, 6), ("RUN", 7, 7), ("RUN", 8, 8)]
    assert " ".join(dockerfile.instructions[1].command.split()) == "apt-get update && apt-get install -y curl"
    assert dockerfile.instructions[2].command == "echo C:\\\\"
    indented = parse_dockerfile("  # escape=`\nFROM scratch\nCOPY a `\n  b\n")
    assert indented.escape == "`" and indented.instructions[1].args == ("a", "b")


def test_heredoc_keeps_its_line_endings():
    """A CRLF heredoc body keeps its CR bytes (the shell in the container will see them, as with BuildKit)."""
    run = parse_dockerfile("FROM scratch\r\nRUN <<EOF\r\necho hi\r\nEOF\r\nCMD [\"sh\"]\r\n").instructions[1]
    assert run.heredocs[0].body == "echo hi\r\n" and run.end_line == 4


def test_legacy_label_and_env_forms():
    label, env = parse_dockerfile("FROM scratch\nLABEL maintainer \"Someone <s@x>\"\nENV\tPATH\t/bin:$PATH\n"
                                  ).instructions[1:]
    assert label.pairs == (("maintainer", "Someone <s@x>"),) and env.pairs == (("PATH", "/bin:"),)


def test_from_an_arg_without_value_is_kept_as_written():
    """ARG BASE then FROM ${BASE}: BuildKit parses it and takes the image from --build-arg at build time."""
    dockerfile = parse_dockerfile("ARG BASE\nARG TAG=1\nFROM ${BASE}:${TAG} AS build\nFROM build\n")
    first, second = dockerfile.stages
    assert first.base == "${BASE}:${TAG}" and first.unresolved_args == ("BASE",) and first.name == "build"
    assert second.base_stage == 0 and second.unresolved_args == ()
    given = parse_dockerfile("ARG BASE\nFROM ${BASE}\n", build_args={"BASE": "alpine:3"})
    assert given.stages[0].base == "alpine:3" and given.stages[0].unresolved_args == ()
    assert parse_dockerfile("FROM ${NOWHERE}\n").stages[0].unresolved_args == ("NOWHERE",)
    assert parse_dockerfile("ARG S\nFROM debian${S:-:bookworm}\n").stages[0].base == "debian:bookworm"


def test_two_stages_may_share_a_name():
    """BuildKit builds such files (buildx's own Dockerfile has one): a reference names the latest stage."""
    dockerfile = parse_dockerfile("FROM alpine AS one\nFROM debian AS one\nFROM one\nCOPY --from=one /a /a\n")
    assert [s.base_stage for s in dockerfile.stages] == [None, None, 1]
    assert dockerfile.stage("one").index == 1


@pytest.mark.parametrize("word, value", [
    ("${V%.gz}", "file.tar"), ("${V%%.*}", "file"), ("${V#file.}", "tar.gz"), ("${V##*.}", "gz"),
    ("${V/a/b}", "file.tbr.gz"), ("${V//a/b}", "file.tbr.gz"), ("${P//\\//:}", ":usr:bin"), ("${V/?/F}", "File.tar.gz"),
    ("${V%\\*}", "file.tar.gz"), ("${UNSET#x}", ""), ("${V%%\"z\"}", "file.tar.g"), ("${V/.gz/}", "file.tar"),
])
def test_pattern_modifiers(word, value):
    """${VAR#p} ${VAR%p} (doubled: longest match) and ${VAR/p/r} (doubled: every match), as BuildKit's lexer."""
    assert expand(word, {"V": "file.tar.gz", "P": "/usr/bin"}) == value


@pytest.mark.parametrize("text, message, hint", [
    ("FROM scratch\nCOPPY a /a\n", "line 2: unknown instruction 'COPPY'", "Did you mean COPY?"),
    ("FROM scratch\nfrobnicate\n", "line 2: unknown instruction 'frobnicate'", "Instructions are ADD"),
    ("RUN echo hi\nFROM scratch\n", "line 1: RUN comes before the first FROM", "only ARG"),
    ("# just a comment\n", "no FROM instruction", "FROM scratch"),
    ("FROM scratch\nRUN\n", "line 2: RUN needs arguments", "docs.docker.com"),
    ("FROM scratch\nCOPY onlyone\n", "line 2: COPY needs at least one source and a destination", "SOURCE"),
    ("FROM scratch\nCOPY --frm=x a b\n", "line 2: COPY does not take the flag --frm", "--from"),
    ("FROM scratch\nUSER a b\n", "line 2: USER takes one value", "docs"),
    ("FROM scratch\nLABEL novalue\n", "line 2: LABEL expects key=value pairs", "key=value"),
    ("FROM scratch\nENV ONLYNAME\n", "line 2: ENV ONLYNAME has no value", "ENV NAME=value"),
    ("FROM scratch\nONBUILD FROM x\n", "line 2: ONBUILD FROM is not allowed", "docs"),
    ("FROM scratch\nHEALTHCHECK --interval=1s\n", "line 2: HEALTHCHECK needs arguments", "docs"),
    ("FROM scratch\nHEALTHCHECK --interval=1s curl x\n", "HEALTHCHECK expects", "docs"),
    ("FROM scratch\nCMD [\"sleep\", 1]\n", "line 2: CMD [\"sleep\", 1]: a JSON array must hold strings only", "Quote"),
    ("FROM scratch\nCOPY [\"a\", null]\n", "line 2: COPY .*strings only, not null", "Quote"),
    ("FROM a AS 1st\n", "'1st' is not a valid stage name", "Stage names"),
    ("FROM a b c d\n", "FROM expects 'FROM image [AS name]'", "docs"),
    ("FROM scratch\nENV A=${B:?must be set}\n", "line 2: B: must be set", "--build-arg B"),
    ("FROM scratch\nENV A=${B:%pre}\n", "line 2: \\${B:%pre} uses a modifier Docker does not support", "Supported"),
    ("FROM scratch\nENV A=${B/pre}\n", "without a closing '/'", "${NAME}"),
    ("FROM scratch\nENV A=${B#\\x}\n", "invalid pattern", "wildcards"),
    ("FROM scratch\nENV A=\"open\n", "unmatched double quote", "Close"),
    ("FROM scratch\nWORKDIR ${A\n", "without a closing", "${NAME}"),
])
def test_errors_carry_line_and_hint(text, message, hint):
    with pytest.raises(ParseError, match=message.replace("(", r"\(").replace("[", r"\[")) as caught:
        parse_dockerfile(text)
    assert hint in caught.value.hint


def test_variable_substitution_where_docker_applies_it():
    dockerfile = parse("""\
        ARG BASE=debian
        ARG TAG
        FROM ${BASE}:${TAG:-bookworm} AS build
        ARG BASE
        ARG USER_ID=1000
        ENV HOME=/home/app \\
            GREETING="hello ${BASE}" LITERAL='$HOME' ESCAPED=\\$HOME
        ENV HOME=/srv AFTER=$HOME
        WORKDIR $HOME/src
        COPY --chown=${USER_ID}:${USER_ID} ["a b", "${HOME}/x"]
        LABEL "org.title"="app for $BASE" version=${TAG:+tagged}${TAG:-untagged}
        USER ${USER_ID}
        EXPOSE ${PORT:-8080}/tcp
        RUN echo $HOME
        STOPSIGNAL ${SIG-SIGTERM}
        """)
    from_, arg, user_arg, env, env2, workdir, copy, label, user, expose, run, stop = dockerfile.instructions[2:]
    assert from_.args == ("debian:bookworm", "build") and dockerfile.stages[0].base == "debian:bookworm"
    assert arg.pairs == (("BASE", "debian"),) and user_arg.pairs == (("USER_ID", "1000"),)
    assert dict(env.pairs) == {"HOME": "/home/app", "GREETING": "hello debian", "LITERAL": "$HOME",
                               "ESCAPED": "$HOME"}
    assert dict(env2.pairs) == {"HOME": "/srv", "AFTER": "/home/app"}  # substitution sees the env before the line
    assert workdir.args == ("/srv/src",) and workdir.workdir == "/"
    assert copy.json_form and copy.args == ("a b", "/srv/x") and copy.flag("chown") == "1000:1000"
    assert copy.workdir == "/srv/src" and copy.destination == "/srv/x"
    assert dict(label.pairs) == {"org.title": "app for debian", "version": "untagged"}
    assert user.args == ("1000",) and expose.args == ("8080/tcp",) and stop.args == ("SIGTERM",)
    assert run.command == "echo $HOME"


def test_arg_scope_build_args_and_stage_inheritance():
    text = """\
        ARG VERSION=1
        FROM alpine:${VERSION} AS base
        ENV FROM_BASE=yes
        RUN echo
        WORKDIR /opt
        FROM base AS child
        ENV SEEN=${VERSION}-${FROM_BASE}
        ARG VERSION
        ENV NOW=${VERSION}
        WORKDIR app
        FROM scratch
        ENV EMPTY=${FROM_BASE}
        """
    dockerfile = parse(text)
    base, child, final = dockerfile.stages
    assert base.base == "alpine:1" and child.base == "base" and child.base_stage == 0 and final.base_stage is None
    env_seen, _, env_now, workdir = child.instructions[1:]
    assert dict(env_seen.pairs) == {"SEEN": "-yes"}  # the global ARG is not visible until declared again
    assert dict(env_now.pairs) == {"NOW": "1"}
    assert workdir.args == ("app",) and workdir.workdir == "/opt"
    assert dict(final.instructions[1].pairs) == {"EMPTY": ""}
    overridden = parse(text, build_args={"VERSION": "3.20"})
    assert overridden.stages[0].base == "alpine:3.20"
    assert dict(overridden.stages[1].instructions[3].pairs) == {"NOW": "3.20"}
    assert [a.line for a in dockerfile.global_args] == [1]


def test_multi_stage_and_copy_from():
    dockerfile = parse("""\
        FROM golang:1.22 AS Build
        WORKDIR /src
        COPY . .
        RUN go build -o /out/app
        FROM debian:bookworm-slim
        COPY --from=build /out/app /usr/local/bin/app
        COPY --from=0 /src/README /doc/
        USER nobody
        """)
    assert [(s.index, s.name, s.base) for s in dockerfile.stages] == [(0, "build", "golang:1.22"),
                                                                     (1, "", "debian:bookworm-slim")]
    assert dockerfile.stage("BUILD") is dockerfile.stages[0] and dockerfile.stage(1) is dockerfile.final_stage
    assert dockerfile.final_stage.copies_from() == ["build", "0"]
    assert dockerfile.final_stage.user == "nobody" and dockerfile.stages[0].user == ""
    assert [i.line for i in dockerfile.layer_instructions()] == [6, 7]
    assert [i.line for i in dockerfile.layer_instructions("build")] == [2, 3, 4]
    with pytest.raises(ParseError, match="no stage named 'test'"):
        dockerfile.stage("test")


def test_which_instructions_make_layers():
    dockerfile = parse("""\
        FROM debian
        WORKDIR /app
        WORKDIR /app
        COPY conf/ /etc/myapp/
        WORKDIR /etc/myapp
        WORKDIR sub
        WORKDIR /tmp
        ENV A=1
        ADD x.tar.gz /opt/
        RUN true
        USER nobody
        """, existing_dirs=["/tmp"])
    made = [(i.keyword, i.args[0] if i.args else "", i.creates_layer) for i in dockerfile.instructions]
    assert made == [("FROM", "debian", False), ("WORKDIR", "/app", True), ("WORKDIR", "/app", False),
                    ("COPY", "conf/", True), ("WORKDIR", "/etc/myapp", False), ("WORKDIR", "sub", True),
                    ("WORKDIR", "/tmp", False), ("ENV", "A=1", False), ("ADD", "x.tar.gz", True),
                    ("RUN", "true", True), ("USER", "nobody", False)]


def test_expand_helper():
    assert expand("${A:-x}/$B/${C:+set}", {"A": "", "B": "b", "C": "c"}) == "x/b/set"
    assert expand("'$A' \"$A\" \\$A", {"A": "1"}) == "$A 1 $A"
    assert expand("${A-unset} ${A+set}", {"A": ""}) == " set"
    assert expand("${NESTED:-${A}-x}", {"A": "1"}) == "1-x"
    assert expand("price: $5 and $", {}) == "price:  and $"  # $5 is a (never set) variable to BuildKit too


# -- instructions <-> history ------------------------------------------------------------------
def test_map_busybox_dockerfile_to_its_recorded_history():
    config = parse_config((FIXTURES / "docker-busybox-config.json").read_bytes())
    matches = map_to_history(parse_dockerfile(BUSYBOX_DOCKERFILE), config.history)
    assert [(m.instruction.line, m.history_index, m.layer_index) for m in matches] == [
        (2, 0, 0), (3, 1, 1), (4, 2, 2), (5, 3, 3), (6, 4, None), (7, 5, None)]
    assert all(m.matched for m in matches)


def test_map_buildkit_history_skips_the_base_images_steps():
    dockerfile = parse("""\
        FROM python:3.11-slim
        ENV LANG=C.UTF-8
        RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates && rm -rf /var/lib/apt/lists/*
        COPY app/ /app/
        WORKDIR /app
        USER app
        EXPOSE 8000
        CMD ["python3"]
        """)
    config = parse_config((FIXTURES / "oci-config-amd64.json").read_bytes())
    matches = map_to_history(dockerfile, config.history)
    assert [(m.instruction.keyword, m.history_index, m.layer_index) for m in matches] == [
        ("ENV", 2, None), ("RUN", 3, 1), ("COPY", 4, 2), ("WORKDIR", 5, 3), ("USER", 6, None),
        ("EXPOSE", 7, None), ("CMD", 8, None)]


def test_unmatched_instructions_are_reported():
    config = parse_config((FIXTURES / "docker-busybox-config.json").read_bytes())
    dockerfile = parse_dockerfile("FROM scratch\nCOPY busybox /bin/busybox\nRUN make\nVOLUME /data\n")
    matches = map_to_history(dockerfile, config.history)
    assert [(m.history_index, m.matched) for m in matches] == [(0, True), (3, True), (None, False)]


# -- the linter ---------------------------------------------------------------------------------
def rules(text: str, *only: str) -> list[tuple[str, int]]:
    """(rule, line) of every finding, or of the findings of the ``only`` rules."""
    return [(f.rule, f.line) for f in lint(parse(text)) if not only or f.rule in only]


def test_lint_apt_update_in_its_own_layer():
    assert rules("""\
        FROM debian:bookworm
        RUN apt-get update
        RUN apt-get install -y curl=7.88.1-10+deb12u8
        USER nobody
        """) == [("apt-update-separate", 2), ("consecutive-runs", 3)]
    assert rules("""\
        FROM debian:bookworm
        RUN apt-get update && apt-get install -y curl=7.88.1-10+deb12u8 && rm -rf /var/lib/apt/lists/*
        USER nobody
        """) == []


def test_lint_add_where_copy_suffices():
    assert rules("""\
        FROM debian:bookworm
        ADD app.py /app/
        ADD rootfs.tar.gz /
        ADD https://example.org/tool /usr/local/bin/tool
        USER nobody
        """) == [("add-instead-of-copy", 2)]


def test_lint_secrets():
    found = rules("""\
        ARG NPM_TOKEN
        FROM debian:bookworm
        COPY id_rsa /root/.ssh/
        COPY .env cert.pem id_rsa.pub ./
        COPY deploy_key /root/.ssh/id_ed25519
        ENV DB_PASSWORD=hunter2 PATH=/usr/bin
        ARG API_KEY
        ENV GITHUB_TOKEN=x
        USER nobody
        """)
    assert found == [("secret-in-arg", 1), ("secret-in-layer", 3), ("secret-in-layer", 4), ("secret-in-layer", 5),
                     ("secret-in-env", 6), ("secret-in-arg", 7), ("secret-in-env", 8)]
    messages = [f.message for f in lint(parse("FROM debian:bookworm\nCOPY .env cert.pem id_rsa.pub ./\nUSER x\n"))]
    assert messages == [".env, cert.pem looks like a secret and is copied into a layer."]


def test_lint_running_as_root_only_checks_the_final_stage():
    """An explicit last USER root is runs-as-root (hadolint's DL3002); no USER at all is no-user (once both were
    runs-as-root)."""
    assert rules("FROM debian:bookworm AS build\nUSER nobody\nFROM debian:bookworm\nRUN true\n") == [
        ("no-user", 3)]
    assert rules("FROM debian:bookworm\nUSER app\nUSER root\n") == [("runs-as-root", 3)]
    assert rules("FROM debian:bookworm\nUSER 0:0\n") == [("runs-as-root", 2)]
    assert rules("FROM debian:bookworm\nUSER root\nRUN true\nUSER 1000:1000\n") == []


def test_lint_latest_tag():
    assert rules("""\
        FROM debian AS one
        FROM debian:latest AS two
        FROM debian:bookworm AS three
        FROM debian@sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa AS four
        FROM one
        FROM scratch
        USER nobody
        """) == [("from-latest", 1), ("from-latest", 2)]
    finding = lint(parse("FROM debian\nUSER x\n"))[0]
    assert finding.message == "FROM debian uses the 'latest' tag (implicitly)."


def test_lint_rm_in_a_later_layer():
    dockerfile = """\
        FROM debian:bookworm
        WORKDIR /app
        COPY secret.pem ./
        RUN rm secret.pem
        RUN apt-get update && apt-get install -y curl
        RUN rm -rf /var/lib/apt/lists/*
        RUN wget -O /tmp/tool.tgz https://example.org/tool.tgz
        RUN rm -f /tmp/*.tgz
        RUN wget -O /tmp/x.tgz https://example.org/x.tgz && tar xzf /tmp/x.tgz && rm /tmp/x.tgz
        USER nobody
        """
    assert rules(dockerfile, "rm-in-later-layer", "secret-in-layer") == [
        ("secret-in-layer", 3), ("rm-in-later-layer", 4), ("rm-in-later-layer", 6), ("rm-in-later-layer", 8)]
    rm = next(f for f in lint(parse(dockerfile)) if f.rule == "rm-in-later-layer")
    assert rm.message == "rm secret.pem (line 4) deletes what line 3 added in an earlier layer."
    assert "does not shrink" in rm.explanation and str(rm).startswith("line 4: [rm-in-later-layer]")


def test_lint_rm_after_a_run_that_cleaned_up_itself():
    """Official images run apt-get update ... && rm -rf /var/lib/apt/lists/* in each RUN: no earlier layer keeps
    the lists, so the second RUN's rm deletes nothing of an earlier layer (this finding used to be wrong)."""
    assert rules("""\
        FROM debian:bookworm
        RUN apt-get update && apt-get install -y curl && rm -rf /var/lib/apt/lists/*
        RUN apt-get update && apt-get install -y git && rm -rf /var/lib/apt/lists/*
        RUN cd /tmp && wget https://example.org/a.zip && unzip a.zip && rm a.zip
        RUN mkdir /build && make -C /build && rm -rf /build
        RUN rm -rf /build /tmp/a.zip
        """, "rm-in-later-layer") == []


def test_lint_pipes_without_pipefail():
    assert rules("""\
        FROM debian:bookworm
        RUN curl -fsSL https://example.org/install.sh | sh
        RUN set -o pipefail && curl -fsSL https://example.org/x | tar xz
        RUN ["bash", "-o", "pipefail", "-c", "a | b"]
        RUN a || b && echo 'a|b'
        SHELL ["/bin/bash", "-o", "pipefail", "-c"]
        RUN a | b
        FROM debian:bookworm
        RUN x=$(a | b)
        """, "pipe-without-pipefail") == [("pipe-without-pipefail", 2), ("pipe-without-pipefail", 9)]


def test_lint_consecutive_runs():
    """Two one-command RUNs in a row with the same flags (hadolint's DL3059); comments do not separate them."""
    assert rules("""\
        FROM debian:bookworm
        RUN mkdir /a
        # a comment
        RUN mkdir /b
        RUN make && make install
        RUN --mount=type=cache,target=/root/.cache pip download x==1
        RUN touch /c
        ENV A=1
        RUN touch /d
        """, "consecutive-runs") == [("consecutive-runs", 4)]


def test_lint_unpinned_packages():
    found = [f for f in lint(parse("""\
        FROM debian:bookworm
        RUN apt-get update && apt-get install -y --no-install-recommends curl wget=1.21-1 ./local.deb
        RUN pip install requests flask==3.0.3 && pip install -r requirements.txt
        RUN apk add --no-cache bash=5.2.21-r0 && npm install -g left-pad express@4.21.1
        RUN yum install -y httpd-2.4.57 && dnf install -y git && gem install rails:7.1.0
        """)) if f.rule == "unpinned-packages"]
    assert [(f.line, f.message) for f in found] == [
        (2, "RUN on line 2 installs packages without a version: apt-get curl."),
        (3, "RUN on line 3 installs packages without a version: pip requests."),
        (4, "RUN on line 4 installs packages without a version: npm left-pad."),
        (5, "RUN on line 5 installs packages without a version: dnf git.")]
    assert "cache" in found[0].explanation and "layer" in found[0].explanation


def test_lint_cd_maintainer_and_duplicate_stage_names():
    assert rules("""\
        FROM debian:bookworm AS build
        MAINTAINER Someone <s@example.invalid>
        RUN cd /src && make
        FROM debian:bookworm AS build
        WORKDIR /src
        RUN make
        """, "cd-instead-of-workdir", "maintainer-deprecated", "duplicate-stage-name") == [
        ("maintainer-deprecated", 2), ("cd-instead-of-workdir", 3), ("duplicate-stage-name", 4)]


def test_lint_skips_from_latest_for_an_image_given_at_build_time():
    assert rules("ARG BASE\nFROM ${BASE}\nUSER nobody\n") == []
    assert rules("ARG TAG=latest\nFROM debian:$TAG\nUSER nobody\n") == [("from-latest", 2)]


def test_findings_explain_themselves():
    findings = lint(parse("FROM debian\nADD a /a\nRUN apt-get update\nRUN apt-get install x\nENV TOKEN=1\n"))
    assert [f.line for f in findings] == sorted(f.line for f in findings)
    assert all(isinstance(f, Finding) and len(f.explanation) > 60 and f.severity in ("warning", "info")
               for f in findings)
    assert json.dumps([f.rule for f in findings])
