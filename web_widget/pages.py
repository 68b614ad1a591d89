"""The citizen pages: the demo host page with the widget, the hall kiosk, and the printable checklist."""

from __future__ import annotations

import datetime as dt
import io

import segno
from flask import Blueprint, Response, current_app, render_template, request, url_for

from catalogue import browse, workdays
from catalogue.checklist import BadAnswer, UnknownBundle, checklist

from .links import absolute

bp = Blueprint("pages", __name__)


def _catalogue():
    return current_app.extensions["catalogue"].records()


@bp.get("/")
def demo():
    """A stand-in for the district website: any page embeds the widget with one script tag."""
    return render_template("demo.html")


@bp.get("/kiosk")
def kiosk():
    taxonomy = browse.taxonomy()
    return render_template("kiosk.html", personal=taxonomy["personal_stages"],
                           enterprise=taxonomy["enterprise_stages"],
                           idle_s=request.args.get("idle", current_app.config["KIOSK_IDLE_S"], type=int),
                           countdown_s=current_app.config["KIOSK_COUNTDOWN_S"])


VIEW_ARGS = ("print", "large")  # how to show the page: print itself, 大字版


def _answers() -> dict[str, str]:
    """The answers in the query string (VIEW_ARGS only say how to show the page)."""
    return {key: value for key, value in request.args.items() if key not in VIEW_ARGS}


class PageError(Exception):
    """A citizen-facing error: an HTTP status and a Chinese message."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


@bp.errorhandler(PageError)
def page_error(exc: PageError):
    return render_template("error.html", message=exc.message), exc.status


def _checklist_or_error(slug: str) -> dict:
    try:
        return checklist(_catalogue(), slug, _answers(), today=workdays.today())
    except UnknownBundle:
        raise PageError(404, "没有找到这个“一件事”。") from None
    except BadAnswer as exc:
        raise PageError(400, str(exc)) from None


@bp.get("/checklist/<slug>")
def checklist_page(slug: str):
    """The personalised checklist, readable without JavaScript and printable on A4; the QR code's target."""
    result = _checklist_or_error(slug)
    large = request.args.get("large") == "1"
    return render_template("checklist.html", c=result, today=dt.date.today().isoformat(), large=large,
                           qr_url=url_for("pages.qr", slug=slug, **_answers()),
                           other_url=url_for("pages.checklist_page", slug=slug, **_answers(),
                                             **({} if large else {"large": "1"})))


@bp.get("/qr/<slug>.svg")
def qr(slug: str):
    """A QR code carrying the personalised checklist page to the citizen's phone."""
    _checklist_or_error(slug)
    target = absolute(url_for("pages.checklist_page", slug=slug, **_answers()))
    buffer = io.BytesIO()
    segno.make(target, error="m").save(buffer, kind="svg", scale=6, border=2, title="扫码在手机上查看清单")
    return Response(buffer.getvalue(), mimetype="image/svg+xml")
