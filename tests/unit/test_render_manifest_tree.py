"""The manifest walker's tree: deterministic, every document a row, both digests of each layer shown."""

import xml.etree.ElementTree as ET

from containerlab.images import Layer, Step, build_image
from containerlab.images.registry_client import OciLayout
from containerlab.render.manifest_tree import manifest_tree, media_type_name, short_digest

SVG = "{http://www.w3.org/2000/svg}"


def walk(fetch_layers=True):
    image = build_image([Layer({"srv/a.txt": "a\n"}, "COPY a.txt /srv/"), Layer({"srv/b.txt": "b\n"}, "RUN b"),
                         Step('CMD ["sh"]')], tag="course/hello:1.0", architecture="amd64")
    return image, OciLayout.from_tar(image.data, name="course/hello:1.0").walk(fetch_layers=fetch_layers)


def texts(svg):
    return ["".join(node.itertext()) for node in ET.fromstring(svg).iter(f"{SVG}text")]


def test_every_document_and_both_layer_digests_are_drawn():
    image, tree_walk = walk()
    diagram = manifest_tree(tree_walk)
    shown = texts(diagram.svg)
    assert short_digest(tree_walk.index.digest) in shown
    assert short_digest(image.manifest_digest) in shown and short_digest(image.config_digest) in shown
    for digest, diff_id in zip(image.layer_digests, image.diff_ids):
        assert short_digest(digest) in shown and f"diff_id {short_digest(diff_id)}" in shown
    assert shown.count("✓ verified") == 3 and shown.count("✓ blob + diff_id") == 2
    assert "all digests verified" in diagram.summary and diagram.summary.startswith("course/hello:1.0")
    assert ET.fromstring(diagram.svg).find(f"{SVG}title").text.startswith("What course/hello:1.0")


def test_same_walk_same_svg_and_unfetched_layers_say_so():
    assert manifest_tree(walk()[1]).svg == manifest_tree(walk()[1]).svg
    diagram = manifest_tree(walk(fetch_layers=False)[1])
    assert texts(diagram.svg).count("not fetched") == 2 and "documents verified" in diagram.summary


def test_names_and_short_digests():
    assert media_type_name("application/vnd.oci.image.index.v1+json") == "OCI image index"
    assert media_type_name("application/x-unknown") == "application/x-unknown"
    assert short_digest("sha256:" + "ab" * 32) == "sha256:" + "ab" * 6
