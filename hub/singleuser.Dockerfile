# The hub's single-user image: the course box plus the jupyterhub package, so the box serves
# `jupyterhub-singleuser` when a hub spawns it (box/entrypoint.sh switches on JUPYTERHUB_API_TOKEN).
#
# Built offline by `./lab hub build` (and by `./lab hub` when it is missing): the wheels come from the host's pip
# into this build context (pip inside a build cannot reach the package index), and no image is pulled.
ARG BOX_IMAGE=containerlab/course

# -- 1. Install jupyterhub beside the box's packages, into a staging prefix (what the box has already is skipped) --
FROM ${BOX_IMAGE} AS install
COPY wheels/ /tmp/wheels/
# The box's venv has no pip: the pip wheel runs as a zip.
RUN set -- /tmp/wheels/pip-*.whl && python "$1/pip" install --quiet --no-index --find-links /tmp/wheels --no-warn-script-location \
      --prefix /opt/hub-staging --requirement /tmp/wheels/requirements.txt

# -- 2. The box, plus only what step 1 added (no wheel stays in any layer) ------------------------------------------
FROM ${BOX_IMAGE}
COPY --from=install /opt/hub-staging/ /opt/containerlab/venv/
RUN jupyterhub-singleuser --version >/dev/null
LABEL org.opencontainers.image.description="The containerlab course box as a JupyterHub single-user server"
