"""Security headers and error pages that never leak internals."""

from __future__ import annotations

from flask import Flask, jsonify, request
from werkzeug.exceptions import HTTPException

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "object-src 'none'; base-uri 'self'; frame-ancestors 'self'; form-action 'self'")


def init_app(app: Flask) -> None:
    @app.after_request
    def headers(response):
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "same-origin"
        response.headers["X-Frame-Options"] = "SAMEORIGIN"
        if request.path.startswith("/api/"):
            response.headers["Cache-Control"] = "no-store"
        return response

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        messages = {404: "没有找到这个页面。", 405: "不支持这种请求方式。"}
        response = jsonify(error=messages.get(exc.code, "请求有误，请稍后再试。"))
        response.status_code = exc.code or 500
        return response

    @app.errorhandler(FileNotFoundError)
    def no_catalogue(_exc):
        response = jsonify(error="事项目录暂时不可用，请稍后再试，或拨打12345咨询。")
        response.status_code = 503
        return response

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        app.logger.exception("unhandled error on %s", request.path)
        response = jsonify(error="系统繁忙，请稍后再试，或到区政务服务中心综合窗口咨询。")
        response.status_code = 500
        return response
