"""Integration tests of a pizza's picture (PUT/DELETE /api/v1/pizzas/{id}/picture, GET
.../picture/{size}; services/pizza/pictures.c) over the real services and RabbitMQ, on the
store backend TIZZA_TEST_BACKEND names. Images are made and read with Pillow: what is stored
must be WebP, fit its size, stand upright by the upload's EXIF orientation and carry none
of its metadata; whatever is refused changes nothing."""
import io
import unittest

from PIL import Image

from constellation import NO_SUCH_ID, Constellation
from harness import ServiceTestCase, started

PIZZAS = "/api/v1/pizzas"
UPLOAD_LIMIT = 5 * 1024 * 1024

K = None
OWNER = OTHER = None


def setUpModule():
    global K
    K = started(Constellation(), fixtures)


def fixtures(k):
    global OWNER, OTHER
    OWNER, OTHER = k.signup_many(2, "pic")


def tearDownModule():
    if K is not None:
        K.teardown()


def image_bytes(fmt, size=(400, 300), exif=None, color=(200, 40, 30)):
    """An image file: the left half `color`, the right half white (to see a rotation)."""
    im = Image.new("RGB", size, "white")
    im.paste(Image.new("RGB", (size[0] // 2, size[1]), color), (0, 0))
    out = io.BytesIO()
    kw = {"exif": exif} if exif is not None else {}
    im.save(out, fmt, **kw)
    return out.getvalue()


def exif_with(orientation):
    """EXIF with an orientation, a GPS position and a camera model, as a phone writes."""
    ex = Image.Exif()
    ex[0x0112] = orientation  # Orientation
    ex[0x0110] = "PhoneCam 9"  # Model
    ex[0x8825] = {1: "N", 2: (45.0, 28.0, 0.0), 3: "E", 4: (9.0, 11.0, 0.0)}  # GPSInfo
    return ex


class PictureTestCase(ServiceTestCase):

    def setUp(self):
        self.pz = K.pizzeria(OWNER, name="Pictures")

    def pizza(self, approve=True):
        p = K.new_pizza(OWNER, self.pz["id"], title="Photogenic")
        if approve:
            K.approve(p["id"])
        return PIZZAS + "/" + p["id"]

    def upload(self, url, data, ctype="image/png", token=None):
        return K.pizza.put(url + "/picture", raw=data, content_type=ctype,
                           token=OWNER.token if token is None else token)

    def fetch(self, path, **kw):
        r = K.pizza.get(path, **kw)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.headers.get("Content-Type"), "image/webp")
        im = Image.open(io.BytesIO(r.raw))
        self.assertEqual(im.format, "WEBP")
        return r, im

    def assertNothingChanged(self, url, before):
        after = K.pizza.get(url, token=OWNER.token).json
        self.assertEqual(after, before)


class TestUpload(PictureTestCase):

    def test_png_upload_two_renditions_and_caching(self):
        url = self.pizza()
        r = self.upload(url, image_bytes("PNG", (2000, 1500)))
        self.assertEqual(r.status, 200, r)
        pic = r.json["picture"]
        self.assertRegex(pic["version"], r"^[0-9a-f]{32}$")
        self.assertEqual((pic["width"], pic["height"]), (1280, 960))
        pid = url.rsplit("/", 1)[1]
        for size in ("large", "thumb"):
            self.assertEqual(pic[size], "%s/picture/%s?v=%s" % (url, size, pic["version"]))
        # the owner's new picture is a change to review: pending, out of public view
        self.assertEqual(r.json["status"], "pending")
        self.assertProblem(K.pizza.get(url), 404)
        # ... but the picture's own URL (with ?v=) works without a token, kept private
        resp, im = self.fetch(pic["large"])
        self.assertEqual(im.size, (1280, 960))
        etag = resp.headers.get("ETag")
        self.assertEqual(etag, '"%s-large"' % pic["version"])
        self.assertEqual(resp.headers.get("Cache-Control"), "private, max-age=31536000, immutable")
        _, thumb = self.fetch(pic["thumb"])
        self.assertEqual(thumb.size, (320, 240))
        # not without the version, nor with another one, while it is not approved
        self.assertProblem(K.pizza.get(url + "/picture/large"), 404)
        self.assertProblem(K.pizza.get(url + "/picture/large?v=" + "0" * 32), 404)
        self.assertEqual(K.pizza.get(url + "/picture/large", token=OWNER.token).status, 200)
        # approved: public, and immutable with the current version
        K.approve(pid)
        resp, _ = self.fetch(pic["large"])
        self.assertEqual(resp.headers.get("Cache-Control"), "public, max-age=31536000, immutable")
        resp, _ = self.fetch(url + "/picture/thumb")
        self.assertEqual(resp.headers.get("Cache-Control"), "no-cache")
        # a revalidation with the ETag: 304, no body
        r304 = K.pizza.get(pic["large"], headers={"If-None-Match": etag})
        self.assertEqual(r304.status, 304, r304)
        self.assertEqual(r304.raw, b"")
        self.assertEqual(r304.headers.get("ETag"), etag)
        self.assertEqual(K.pizza.get(pic["large"], headers={"If-None-Match": '"other"'}).status,
                         200)
        self.assertProblem(K.pizza.get(url + "/picture/huge"), 404)
        self.assertProblem(K.pizza.get(PIZZAS + "/" + NO_SUCH_ID + "/picture/large"), 404)

    def test_jpeg_is_turned_upright_and_loses_its_metadata(self):
        url = self.pizza(approve=False)
        # stored 400x300, left half red; orientation 6: shown turned 90 degrees clockwise,
        # so upright it is 300x400 with the red half on top
        data = image_bytes("JPEG", (400, 300), exif=exif_with(6))
        self.assertIn(b"PhoneCam 9", data)
        r = self.upload(url, data, "image/jpeg")
        self.assertEqual(r.status, 200, r)
        self.assertEqual((r.json["picture"]["width"], r.json["picture"]["height"]), (300, 400))
        resp, im = self.fetch(r.json["picture"]["large"])
        self.assertEqual(im.size, (300, 400))
        top, bottom = im.convert("RGB").getpixel((150, 50)), im.convert("RGB").getpixel((150, 350))
        self.assertGreater(top[0] - top[1], 100, top)  # red
        self.assertGreater(min(bottom), 200, bottom)  # white
        for marker in (b"Exif", b"EXIF", b"XMP ", b"ICCP", b"PhoneCam"):
            self.assertNotIn(marker, resp.raw)
        self.assertEqual(dict(im.getexif()), {})

    def test_webp_upload_and_a_new_picture_gets_a_new_version(self):
        url = self.pizza(approve=False)
        first = self.upload(url, image_bytes("WEBP", (64, 48)), "image/webp")
        self.assertEqual(first.status, 200, first)
        self.assertEqual((first.json["picture"]["width"], first.json["picture"]["height"]),
                         (64, 48))  # never enlarged
        second = self.upload(url, image_bytes("PNG", (64, 48), color=(20, 20, 200)))
        self.assertEqual(second.status, 200, second)
        self.assertNotEqual(first.json["picture"]["version"], second.json["picture"]["version"])
        self.assertProblem(K.pizza.get(first.json["picture"]["large"]), 404)  # the old one is gone
        self.fetch(second.json["picture"]["large"])

    def test_refusals_change_nothing(self):
        url = self.pizza(approve=False)
        good = self.upload(url, image_bytes("PNG"))
        self.assertEqual(good.status, 200, good)
        before = K.pizza.get(url, token=OWNER.token).json
        png = image_bytes("PNG")
        cut = image_bytes("JPEG", (800, 600))
        cases = [
            ("text named as an image", b"this is not a picture at all" * 10, "image/png", 422),
            ("a JPEG cut short", cut[:len(cut) // 2], "image/jpeg", 422),
            ("too large in pixels", image_bytes("PNG", (8200, 16)), "image/png", 422),
            ("too small", image_bytes("PNG", (8, 8)), "image/png", 422),
            ("a GIF", b"GIF89a" + b"\x00" * 64, "image/png", 422),
            ("JSON", b'{"picture": "x"}', "application/json", 415),
            ("no type", png, None, 415),
            ("an empty body", b"", "image/png", 400),
        ]
        for what, data, ctype, status in cases:
            with self.subTest(what):
                self.assertProblem(self.upload(url, data, ctype), status,
                                   field="picture" if status == 422 else None)
        self.assertProblem(self.upload(url, png, token=OTHER.token), 404)  # not visible to them
        self.assertProblem(self.upload(self.pizza(), png, token=OTHER.token), 403)
        self.assertProblem(self.upload(url, png, token=False), 401)
        self.assertProblem(self.upload(PIZZAS + "/" + NO_SUCH_ID, png), 404)
        r = K.pizza.put(url + "/picture", raw=png, content_type="image/png", token=OWNER.token,
                        headers={"If-Match": '"1"'})  # the upload above made it version 2
        self.assertProblem(r, 412)
        self.assertEqual(r.headers.get("ETag"), '"2"')
        self.assertNothingChanged(url, before)

    def test_over_the_upload_limit(self):
        url = self.pizza(approve=False)
        before = K.pizza.get(url, token=OWNER.token).json
        r = self.upload(url, b"\x89PNG" + b"\x00" * UPLOAD_LIMIT)
        self.assertProblem(r, 413)
        self.assertNothingChanged(url, before)
        # other routes keep the JSON body limit
        r = K.pizza.patch(url, raw=b'{"title": "' + b"x" * 200000 + b'"}',
                          content_type="application/json", token=OWNER.token)
        self.assertProblem(r, 413)

    def test_delete_picture_and_pictures_go_with_their_pizza(self):
        url = self.pizza()
        pic = self.upload(url, image_bytes("PNG")).json["picture"]
        etag = K.pizza.get(url, token=OWNER.token).headers.get("ETag")
        r = K.pizza.delete(url + "/picture", token=OWNER.token, headers={"If-Match": '"1"'})
        self.assertProblem(r, 412)  # stale: the upload moved the version on
        self.assertEqual(r.headers.get("ETag"), etag)
        r = K.pizza.delete(url + "/picture", token=OWNER.token, headers={"If-Match": etag})
        self.assertEqual(r.status, 204, r)
        self.assertIsNone(K.pizza.get(url, token=OWNER.token).json["picture"])
        self.assertProblem(K.pizza.get(pic["large"]), 404)
        self.assertProblem(K.pizza.delete(url + "/picture", token=OWNER.token), 404)
        # a pizza deleted: its picture with it
        pic = self.upload(url, image_bytes("PNG")).json["picture"]
        self.assertEqual(K.pizza.delete(url, token=OWNER.token).status, 204)
        self.assertProblem(K.pizza.get(pic["large"]), 404)
        self.assertProblem(K.pizza.get(pic["thumb"]), 404)

    def test_an_erased_owners_pictures_are_erased(self):
        user = K.signup_many(1, "picgone")[0]
        pz = K.pizzeria(user, name="Gone")
        p = K.new_pizza(user, pz["id"], title="Soon gone")
        r = K.pizza.put(PIZZAS + "/" + p["id"] + "/picture", raw=image_bytes("PNG"),
                        content_type="image/png", token=user.token)
        self.assertEqual(r.status, 200, r)
        pic = r.json["picture"]
        self.fetch(pic["thumb"])
        r = K.auth.delete("/api/v1/users/" + user.id, token=user.token)
        self.assertEqual(r.status, 202, r)
        K.wait_erased([user.id])
        self.assertProblem(K.pizza.get(pic["thumb"]), 404)
        self.assertProblem(K.pizza.get(pic["large"]), 404)


if __name__ == "__main__":
    unittest.main()
