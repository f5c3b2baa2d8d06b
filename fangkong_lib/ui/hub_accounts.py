"""The hub's accounts service: what the 用户管理 page asks for under the hub.

A login's server runs as the login's own OS account (as root, see
:mod:`fangkong_lib.ui.hub`) and gets only its own database role: it can
neither write the hub's logins nor make OS accounts or database roles. The
page asks this service instead (``POST /<action>`` with the server's own
hub token); the service, started by the hub with the hub's account and the
store's owner URL, asks the hub whose token it is and runs the same
functions as ``fangkong user`` for that login, ``admin=True``: only an
enabled county login gets anything done (checked again in the action's
transaction). It listens on 127.0.0.1 only and is not routed by the proxy.
"""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

__all__ = ["ACTIONS", "main"]

#: What the page may ask for.
ACTIONS = ("add", "disable", "enable", "reset", "pending")


def run(engine, state: Path, by: str, action: str, params: dict):
    """Do ``action`` for county login ``by``; its result (JSON-able)."""
    from ..actions.users import list_users, require_admin
    from . import hub

    p = {k: str(v) for k, v in params.items() if v is not None}
    if action == "add":
        hub.add_login(engine, state, p.get("name", ""), p.get("role", ""), township=p.get("township", ""),
                      village=p.get("village", ""), full_name=p.get("full_name", ""),
                      password=p.get("password") or None, by=by, admin=True)
    elif action == "disable":
        hub.disable_login(engine, state, p.get("name", ""), by=by, admin=True)
    elif action == "enable":
        hub.enable_login(engine, state, p.get("name", ""), by=by, admin=True)
    elif action == "reset":
        hub.reset_login(engine, state, p.get("name", ""), p.get("password", ""), by=by, admin=True)
    elif action == "pending":
        with engine.connect() as conn:
            require_admin(conn, by)
        return hub.pending_signups(state, [u["name"] for u in list_users(engine)])
    return None


def main() -> None:
    from jupyterhub.services.auth import HubAuth
    from tornado import ioloop, web

    from .. import store

    engine = store.get_engine(os.environ["FANGKONG_DB"])
    state = Path(os.environ["FANGKONG_HUB_DIR"])
    auth = HubAuth(cache_max_age=0)

    class Handler(web.RequestHandler):
        def answer(self, status: int, **body) -> None:
            self.set_status(status)
            self.set_header("Content-Type", "application/json")
            self.finish(json.dumps(body, ensure_ascii=False))

        async def post(self, action: str):
            header = self.request.headers.get("Authorization", "")
            token = header[len("token "):].strip() if header.startswith("token ") else ""
            model = await auth.user_for_token(token, use_cache=False, sync=False) if token else None
            if not model or model.get("kind", "user") != "user":
                return self.answer(403, ok=False, message="未登录：账号服务只接受多用户服务器上的会话")
            if action not in ACTIONS:
                return self.answer(404, ok=False, message=f"没有操作 {action}")
            try:
                params = json.loads(self.request.body or b"{}")
                result = await ioloop.IOLoop.current().run_in_executor(
                    None, run, engine, state, model["name"], action, params)
            except (ValueError, RuntimeError, PermissionError) as exc:  # ActionError is a ValueError
                return self.answer(400, ok=False, message=str(exc))
            self.answer(200, ok=True, result=result)

    app = web.Application([(r"/([a-z]+)", Handler)])
    app.listen(int(os.environ["FANGKONG_ACCOUNTS_PORT"]), address="127.0.0.1")
    signal.signal(signal.SIGTERM, lambda *_: ioloop.IOLoop.current().add_callback_from_signal(
        ioloop.IOLoop.current().stop))
    try:
        ioloop.IOLoop.current().start()
    except KeyboardInterrupt:  # the hub stopping
        pass


if __name__ == "__main__":
    main()
