"""The docker/podman command line beside every Lab action: what a person types, and what inspect answers. Pure.

`line` renders each Lab action (run, start, exec, network, volume, build, compose, push, pull) as the
command a person would type with the engine in use; `inspect` reads `docker inspect` documents into the
small models the course's graders check, so a container typed into a terminal is graded like one
started from Python.
"""

from .inspect import ContainerFacts, EngineState, MountFacts, NetworkFacts, NetworkInfo, PublishedPort, VolumeInfo
from .line import CommandLine, ShellVariables

__all__ = ["CommandLine", "ShellVariables", "ContainerFacts", "EngineState", "MountFacts", "NetworkFacts",
           "NetworkInfo", "PublishedPort", "VolumeInfo"]
