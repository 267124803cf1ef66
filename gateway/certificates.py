"""The completion certificate as a PDF, for printing or keeping on a phone: the member's name and the
course in Chinese (and English), the verification code, and a QR code that opens the public check
of that code, so whoever is shown the paper can tell it is real.

reportlab draws it with the Adobe CID font STSong-Light, which every PDF reader knows: no font file
ships with palace or the image, and no system library is needed (WeasyPrint would need pango and
Debian's CJK fonts in every image). segno makes the QR."""
import io
from datetime import datetime

import segno
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

from gateway.problem_pages import base
from services.common.zone import HOME_ZONE

SONG = "STSong-Light"
LATIN = "Helvetica"
pdfmetrics.registerFont(UnicodeCIDFont(SONG))
WIDTH, HEIGHT = landscape(A4)
MARGIN = 56
QR_SIZE = 110  # points: about 39 mm, readable by a phone from arm's length
RED = (0.66, 0.11, 0.11)


def render(cert, member_name, check_url):
    """The certificate's PDF (bytes). cert: the enrolment service's certificate (course_title, code,
    attended, sessions_count, issued_at); member_name may be None (an account since closed)."""
    out = io.BytesIO()
    pdf = canvas.Canvas(out, pagesize=(WIDTH, HEIGHT), pageCompression=1)
    pdf.setTitle(f"结业证书 {cert['course_title']}")
    pdf.setAuthor("工人文化宫 Workers' Cultural Palace")
    _frame(pdf)
    _centred(pdf, "结业证书", SONG, 40, HEIGHT - 130, colour=RED)
    _centred(pdf, "Certificate of Completion", LATIN, 16, HEIGHT - 158)
    who = f"{member_name} 学员" if member_name else "学员"
    _centred(pdf, f"兹证明 {who}参加《{cert['course_title']}》课程学习，", SONG, 20, HEIGHT - 215)
    _centred(pdf, f"出勤 {cert['attended']} / {cert['sessions_count']} 次，准予结业。", SONG, 20, HEIGHT - 248)
    english = f"{member_name} has completed" if member_name else "This certifies completion of"
    _centred(pdf, f"{english} the course \u201c{cert['course_title']}\u201d, attending {cert['attended']} of "
                  f"{cert['sessions_count']} sessions.", SONG, 12, HEIGHT - 280)
    issued = _day(cert["issued_at"])
    pdf.setFont(SONG, 14)
    pdf.drawString(MARGIN + 30, MARGIN + 80, "工人文化宫  Workers' Cultural Palace")
    pdf.drawString(MARGIN + 30, MARGIN + 56, f"发证日期 Issued: {issued:%Y年%m月%d日}")
    pdf.drawString(MARGIN + 30, MARGIN + 32, f"验证码 Verification code: {cert['code']}")
    _qr(pdf, check_url, WIDTH - MARGIN - 30 - QR_SIZE, MARGIN + 40)
    pdf.setFont(SONG, 8)
    pdf.drawCentredString(WIDTH - MARGIN - 30 - QR_SIZE / 2, MARGIN + 26, "扫码验证 Scan to verify")
    pdf.showPage()
    pdf.save()
    return out.getvalue()


def check_page(req, code):
    """The member app's page where a person checks the certificate (what its QR opens): at the palace's
    public address, which a phone scanning the paper can reach."""
    return f"{base(req)}/verify/{code}"


def masked(name):
    """A name with its middle hidden (王*明, 张*, L*****i): someone shown the certificate can match it
    to the person showing it; someone who only has the code learns little. None stays None."""
    if not name:
        return None
    name = name.strip()
    if len(name) <= 2:
        return name[:1] + "*" * (len(name) - 1)
    return name[0] + "*" * (len(name) - 2) + name[-1]


def _frame(pdf):
    pdf.setStrokeColorRGB(*RED)
    pdf.setLineWidth(3)
    pdf.rect(MARGIN / 2, MARGIN / 2, WIDTH - MARGIN, HEIGHT - MARGIN)
    pdf.setLineWidth(0.8)
    pdf.rect(MARGIN / 2 + 8, MARGIN / 2 + 8, WIDTH - MARGIN - 16, HEIGHT - MARGIN - 16)


def _centred(pdf, text, font, size, y, colour=(0, 0, 0)):
    """One centred line, in a smaller size when a long course title would run past the frame."""
    room = WIDTH - 2 * MARGIN - 40
    while size > 8 and pdfmetrics.stringWidth(text, font, size) > room:
        size -= 1
    pdf.setFillColorRGB(*colour)
    pdf.setFont(font, size)
    pdf.drawCentredString(WIDTH / 2, y, text)
    pdf.setFillColorRGB(0, 0, 0)


def _qr(pdf, url, x, y):
    """The QR of url, its bottom-left corner at (x, y): a black-and-white image 4 pixels a module, so
    a reader scaling it up keeps the edges sharp (squares drawn one by one show hairline seams)."""
    png = io.BytesIO()
    segno.make(url, error="m").save(png, kind="png", scale=4, border=2)
    png.seek(0)
    pdf.drawImage(ImageReader(png), x, y, QR_SIZE, QR_SIZE)


def _day(issued_at):
    when = datetime.fromisoformat(issued_at) if isinstance(issued_at, str) else issued_at
    return when.astimezone(HOME_ZONE)
