"""Lab's safety rules that need no engine: loopback ports, no engine socket, explained privilege, names."""

import pytest

from containerlab.engine.connect import Engine
from containerlab.engine.lab import Lab, _loopback_ports, _safe_binds, label_filters
from containerlab.errors import LabError, UnsafeRequestError

ROOTFUL = Engine(client=None, name="docker", version="20.10", api_version="1.41", rootless=False, cgroup_version="1",
                 storage_driver="overlay2", base_url="unix:///var/run/docker.sock")


def test_ports_bind_loopback_only():
    assert _loopback_ports({80: 8080, "53/udp": None}) == {"80/tcp": ("127.0.0.1", 8080),
                                                          "53/udp": ("127.0.0.1", None)}
    assert _loopback_ports({80: ("127.0.0.1", 8080)}) == {"80/tcp": ("127.0.0.1", 8080)}
    with pytest.raises(UnsafeRequestError, match="0.0.0.0"):
        _loopback_ports({80: ("0.0.0.0", 8080)})


@pytest.mark.parametrize("volumes", [{"/var/run/docker.sock": {"bind": "/s", "mode": "rw"}},
                                     ["/run/podman/podman.sock:/s"], ["/run/docker.sock/:/x"]])
def test_engine_socket_is_never_mounted(volumes):
    with pytest.raises(UnsafeRequestError, match="control of the engine"):
        _safe_binds(volumes)


def test_ordinary_binds_pass():
    assert _safe_binds(["/tmp/data:/data:ro"]) == ["/tmp/data:/data:ro"]


def test_privileged_needs_a_reason():
    lab = Lab("t", owner="x", engine=ROOTFUL)
    with pytest.raises(UnsafeRequestError, match="without saying why"):
        lab._host_config({"privileged": True})
    config = lab._host_config({"privileged": True, "privileged_because": "lesson 10 mounts cgroups"})
    assert config["privileged"] is True


def test_default_limits_and_overrides():
    lab = Lab("t", owner="x", engine=ROOTFUL)
    config = lab._host_config({})
    assert config["mem_limit"] == "256m" and config["pids_limit"] == 256 and config["memswap_limit"] == "256m"
    config = lab._host_config({"mem_limit": "64m", "pids_limit": 20})
    assert config["mem_limit"] == "64m" and config["pids_limit"] == 20


def test_names_are_per_owner_and_lesson():
    a, b = Lab("01-what-is-a-container", owner="ann"), Lab("01-what-is-a-container", owner="Bob Smith")
    assert a.name_for("web") == "clab-ann-01-what-is-a-container-web"
    assert b.name_for("web") == "clab-bob-smith-01-what-is-a-container-web"
    assert a.labels() == {"containerlab.lesson": "01-what-is-a-container", "containerlab.owner": "ann"}
    assert label_filters("x", "ann") == ["containerlab.lesson=x", "containerlab.owner=ann"]
    assert label_filters() == ["containerlab.lesson"]
    with pytest.raises(LabError):
        Lab("///")



def test_gone_or_in_use_tells_a_shared_engine_race_from_a_real_failure():
    from docker.errors import APIError

    from containerlab.engine.lab import gone_or_in_use

    class Answer:
        def __init__(self, status: int) -> None:
            self.status_code = status
            self.reason = ""

    def error(status: int, text: str) -> APIError:
        return APIError(text, response=Answer(status), explanation=text)

    race = [(500, "unrecognized image ID sha256:71bd6576ee0a"),  # Docker, image removed between lookup and removal
            (404, "No such image: sha256:125ee0c1beb7659a3ebceff5b26fe62b26d925214259f711131db2db5dd39235"),
            (409, "conflict: unable to delete 71bd6576ee0a (cannot be forced) - image has dependent child images"),
            (409, "conflict: unable to delete 71bd6576ee0a (must be forced) - image is being used by stopped "
                  "container 1234"),
            (500, "image used by 0123abcd: image is in use by a container"),  # Podman 4
            (500, "71bd6576ee0a: image not known"),  # Podman 4
            (500, "removal of container 1234 is already in progress"),
            # Podman 4.3, an image ID another remover is removing at that moment (8 removers, 15 rounds)
            (500, "failed to convert ImageData to ImageInspect 'sha256:8b49205b6a8d': reading data blob size "
                  '"sha256:8b49205b6a8d" for "8b49205b6a8d": size is not known'),
            (500, 'normalizing image: normalizing name for compat API: parsing named reference "8b49205b6a8d5a1fd333d5b'
                  '968bd924de6ab730e7491802d894eb37b93bc85d9": invalid repository name (8b49205b6a8d5a1fd333d5b968bd924d'
                  'e6ab730e7491802d894eb37b93bc85d9), cannot specify 64-byte hexadecimal strings')]
    for status, text in race:
        assert gone_or_in_use(error(status, text)), text
    for status, text in [(500, "error creating overlay mount to /var/lib/docker/overlay2/x/merged: invalid argument"),
                         (500, "driver failed programming external connectivity"),
                         (400, "invalid reference format")]:
        assert not gone_or_in_use(error(status, text)), text


def test_a_build_whose_cached_image_vanished_is_told_from_a_broken_dockerfile():
    from containerlab.engine.builds import cached_image_vanished

    vanished = ["unrecognized image ID sha256:71bd6576ee0a1f2e3d4c5b6a79881726354a5b6c7d8e9f0a1b2c3d4e5f60718",
                "No such image: sha256:125ee0c1beb7659a3ebceff5b26fe62b26d925214259f711131db2db5dd39235",
                "71bd6576ee0a: image not known",
                # Docker, when the step's parent was removed between its cache lookup and the layer's commit
                "unknown parent image ID sha256:9ae325b8885b2ff861dcf27006d3ce08aa66907d56107d51fb1804e51ba3e911",
                # Docker's classic builder, when another child of the step's parent was removed during the cache
                # lookup, which lists the children first and then reads each one (CI of e099588, lesson 05)
                "failed to get digest sha256:dea7b68441f2a724d6455313e6f661fb82ea1c4b84ba62c37b6231dda1fbea5b: open "
                "/var/lib/docker/image/overlay2/imagedb/content/sha256/dea7b68441f2a724d6455313e6f661fb82ea1c4b84ba62c"
                "37b6231dda1fbea5b: no such file or directory",
                'unable to find image "sha256:c5ddae35633cabcb123aa1796a99a916ea550f8da6ea3a2752b5ad0b634f77ee"']
    broken = ["The command '/bin/sh -c exit 3' returned a non-zero code: 3",
              "pull access denied for nosuchimage, repository does not exist or may require 'docker login'",
              "COPY failed: file not found in build context or excluded by .dockerignore: stat a: file does not exist",
              "No such image: nosuchimage:latest",
              "Unable to find image 'nosuchimage:latest' locally"]
    assert all(cached_image_vanished(text) for text in vanished)
    assert not any(cached_image_vanished(text) for text in broken)
