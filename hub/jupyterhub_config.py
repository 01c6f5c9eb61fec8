"""JupyterHub for a workshop room: every attendee gets their own course box (JupyterLab + a private container engine).

`./lab hub` runs `jupyterhub -f hub/jupyterhub_config.py` with its options passed in CONTAINERLAB_HUB_* variables
(containerlab.engine.hub.HubSettings lists them with their defaults). Change anything below; the comments say why
each setting is what it is. docs/instructors.md walks through the room: sizing, security, the morning-of checklist.
"""

import sys

from containerlab.engine import box, hub

c = get_config()  # noqa: F821 (JupyterHub provides get_config to its config file)
settings = hub.HubSettings.from_env()
state = settings.state_dir
state.mkdir(parents=True, exist_ok=True, mode=0o700)
secrets = hub.HubSecrets.load_or_create(settings)

# -- Where people reach the hub -------------------------------------------------------------------------------------
# 127.0.0.1 unless the instructor asked for --public (then every address, with TLS: see docs/instructors.md).
c.JupyterHub.bind_url = f"{'https' if settings.tls_cert else 'http'}://{settings.ip}:{settings.port}"
if settings.tls_cert:
    c.JupyterHub.ssl_cert = settings.tls_cert
    c.JupyterHub.ssl_key = settings.tls_key

# The hub's own API must be reachable from the boxes (they report activity and check logins there), and from
# nowhere else: it listens on this machine's address on a bridge network the course made, never on 0.0.0.0.
# The port stays the same across restarts, so boxes that outlive a hub restart still find it.
hub_address = hub.ensure_hub_network(settings)
c.JupyterHub.hub_ip = hub_address
c.JupyterHub.hub_connect_ip = hub_address
c.JupyterHub.hub_port = secrets.hub_port

# The proxy (configurable-http-proxy from npm, installed by ./lab hub) and its API on the loopback only.
c.ConfigurableHTTPProxy.command = hub.proxy_command()
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{hub._free_port()}"
c.ConfigurableHTTPProxy.auth_token = secrets.proxy_token
c.ConfigurableHTTPProxy.pid_file = str(state / "proxy.pid")

# Everything the hub keeps, in its state folder (user list, cookie secret): a restart forgets nobody.
c.JupyterHub.db_url = f"sqlite:///{state / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret = bytes.fromhex(secrets.cookie_secret)
c.JupyterHub.pid_file = str(state / "jupyterhub.pid")

# -- Who may log in -------------------------------------------------------------------------------------------------
# One room password for attendees (any name they pick becomes their user), a separate long one for the instructor,
# who is the hub's admin. Both are generated at the first start and printed by ./lab hub (never a default).
c.JupyterHub.authenticator_class = "shared-password"
c.SharedPasswordAuthenticator.user_password = secrets.password
c.SharedPasswordAuthenticator.admin_password = secrets.admin_password
c.Authenticator.admin_users = {settings.admin}
c.Authenticator.allow_all = True

# -- Each attendee's server: a course box ---------------------------------------------------------------------------
if settings.spawner == "swarm":
    # Docker Swarm: the swarm places each box on a node. A service cannot get the box's privileges, so the boxes'
    # own engines do not run there (docs/instructors.md, "Past one machine").
    c.JupyterHub.spawner_class = "containerlab.engine.hubspawner.CourseBoxSwarmSpawner"
    spawner = c.CourseBoxSwarmSpawner
    spawner.name_template = f"{settings.prefix}-box-{{username}}"
else:
    c.JupyterHub.spawner_class = "containerlab.engine.hubspawner.CourseBoxSpawner"
    spawner = c.CourseBoxSpawner
    # The forms of privileges to try: --privileged first (laptops, most servers), then the long form.
    spawner.box_forms = list(box.FORMS)
    # Each attendee's own network (the hub reaches every box from the host; boxes cannot reach each other).
    spawner.network_name = f"{settings.prefix}-net-{{username}}"
    spawner.name_template = f"{settings.prefix}-box-{{username}}"
    # The attendee's notebooks on a named volume that outlives their server and the hub; the nested engine's
    # storage on another (restarting a server keeps the lab images loaded).
    spawner.volumes = {f"{settings.prefix}-work-{{username}}": box.WORK_MOUNT,
                       f"{settings.prefix}-engine-{{username}}": box.ENGINE_MOUNT}
    # A server that stops is removed (its volumes stay): a restart starts a fresh box on the same notebooks.
    spawner.remove = True

spawner.image = settings.image
spawner.pull_policy = "never" if settings.spawner == "docker" else "skip"  # the image is built on the server
spawner.hub_owner = settings.owner
spawner.hub_prefix = settings.prefix
spawner.prefix = settings.prefix
# Per-attendee limits: CPU, memory (the box's engine, JupyterLab and the lessons' containers share it), processes.
spawner.cpu_limit = settings.cpus
spawner.mem_limit = settings.memory.upper()  # JupyterHub writes sizes as 2G, 512M
spawner.pids_limit = settings.pids
# JupyterLab in the attendee's folder; a box takes a few seconds more than a plain server (its engine starts).
spawner.default_url = "/lab"
spawner.start_timeout = 420
spawner.http_timeout = 120

# Boxes outlive a hub restart: attendees keep working while the instructor restarts or upgrades the hub.
c.JupyterHub.cleanup_servers = False

# -- Idle servers are stopped ---------------------------------------------------------------------------------------
# jupyterhub-idle-culler stops servers nobody used for idle_timeout seconds (their notebooks stay on the volume).
if settings.idle_timeout > 0:
    c.JupyterHub.services = [{
        "name": "idle-culler",
        "command": [sys.executable, "-m", "jupyterhub_idle_culler", f"--timeout={settings.idle_timeout}",
                    f"--cull-every={max(10, min(300, settings.idle_timeout // 2))}"],
    }]
    c.JupyterHub.load_roles = [{
        "name": "idle-culler",
        "scopes": ["list:users", "read:users:activity", "read:servers", "delete:servers"],
        "services": ["idle-culler"],
    }]
