"""Security headers and error pages that never leak internals."""

from __future__ import annotations

from flask import Flask, current_app, jsonify, render_template, request
from werkzeug.exceptions import HTTPException, SecurityError

from .marks import is_json_api

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "object-src 'none'; base-uri 'self'; frame-ancestors 'self'; form-action 'self'")


def _allowed_origin() -> str | None:
    """The request's Origin when it is one of the sites allowed to embed the widget (YISHI_WIDGET_ORIGINS)."""
    origin = request.headers.get("Origin")
    allowed = current_app.config["WIDGET_ORIGINS"]
    return origin if origin and origin != "null" and origin in allowed else None


def _cross_origin() -> bool:
    """The chat, the widget's files and QR codes may be used by the sites allowed to embed the widget."""
    return request.blueprint == "chat" or request.endpoint in ("static", "pages.qr")


def _wants_json() -> bool:
    """Errors of the JSON API, the chat, QR codes and the console's APIs are JSON; pages get a page."""
    if request.url_rule is None:  # no route matched: the URL's area decides
        return request.path.startswith(("/api/", "/chat/", "/staff/api/"))
    view = current_app.view_functions.get(request.endpoint)
    return request.blueprint in ("api", "chat") or request.endpoint == "pages.qr" or is_json_api(view)


def init_app(app: Flask) -> None:
    @app.before_request
    def preflight():
        if request.method == "OPTIONS" and request.blueprint == "chat":
            response = app.make_response(("", 204))
            if _allowed_origin():
                response.headers["Access-Control-Allow-Methods"] = "GET, POST"
                response.headers["Access-Control-Allow-Headers"] = "Content-Type"
                response.headers["Access-Control-Max-Age"] = "600"
            return response
        return None

    @app.after_request
    def headers(response):
        origin = _allowed_origin()
        if origin and _cross_origin():
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Access-Control-Allow-Credentials"] = "true"
            response.headers["Vary"] = "Origin"
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "same-origin"
        # the kiosk reads aloud (speech synthesis needs no permission); nothing uses these
        response.headers["Permissions-Policy"] = ("camera=(), microphone=(), geolocation=(), payment=(), usb=(), "
                                                  "interest-cohort=()")
        if request.blueprint and request.blueprint.startswith("staff"):
            response.headers["Cache-Control"] = "no-store"  # transcripts and accounts
        response.headers["X-Frame-Options"] = "SAMEORIGIN"
        if request.blueprint == "api":
            response.headers["Cache-Control"] = "no-store"
        return response

    def error(status: int, message: str):
        """JSON for the API and the chat, a page for everything a person opens in a browser."""
        if _wants_json():
            response = jsonify(error=message)
        else:
            response = app.make_response(render_template("error.html", message=message,
                                                          citizen="citizen" in app.config["SERVE"]))
        response.status_code = status
        return response

    @app.errorhandler(SecurityError)
    def untrusted_host(_exc: SecurityError):
        """A Host header that is not ours (TRUSTED_HOSTS): refused before any link is built from it."""
        return app.response_class("请求的网址不正确。", status=400, mimetype="text/plain")

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        messages = {404: "没有找到这个页面。", 405: "不支持这种请求方式。", 413: "内容太长了，请精简后再发送。"}
        return error(exc.code or 500, messages.get(exc.code, "请求有误，请稍后再试。"))

    @app.errorhandler(FileNotFoundError)
    def no_catalogue(_exc):
        return error(503, "事项目录暂时不可用，请稍后再试，或拨打12345咨询。")

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        app.logger.exception("unhandled error on %s", request.path)
        return error(500, "系统繁忙，请稍后再试，或到区政务服务中心综合窗口咨询。")
