"""`center_point` is the geometry's centroid, as PostGIS's ST_Centroid gives it, on both
backends; parse results add data types to the ingest's instead of replacing them."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import text

from scale.db import make_engine
from scale.models.files import ScaleFile
from scale.products.geometry import centroid
from scale.products.service import record_parse_results, store_products
from scale.products.values import CollectedOutput, OutputFile, ParsedInput
from scale.specs.results_manifest import GeoMetadata, ParseResult
from tests.factories import RunnerSetup, make_file, make_job_type, make_workspace, new_job

SQUARE = [[0, 0], [4, 0], [4, 4], [0, 4], [0, 0]]
SHAPES = {
    "point": {"type": "Point", "coordinates": [1.5, -2]},
    "square": {"type": "Polygon", "coordinates": [SQUARE]},
    "square-clockwise": {"type": "Polygon", "coordinates": [SQUARE[::-1]]},
    "square-with-hole": {"type": "Polygon", "coordinates": [SQUARE, [[0, 0], [2, 0], [2, 2], [0, 2], [0, 0]]]},
    "multipolygon": {"type": "MultiPolygon", "coordinates": [[SQUARE], [[[10, 10], [11, 10], [11, 11], [10, 10]]]]},
    "line": {"type": "LineString", "coordinates": [[0, 0], [3, 0], [3, 1]]},
    "multipoint": {"type": "MultiPoint", "coordinates": [[0, 0], [1, 1], [5, 2]]},
    "collection": {"type": "GeometryCollection", "geometries": [
        {"type": "Point", "coordinates": [100, 100]}, {"type": "Polygon", "coordinates": [SQUARE]}]},
    "lines-and-points": {"type": "GeometryCollection", "geometries": [
        {"type": "Point", "coordinates": [100, 100]}, {"type": "LineString", "coordinates": [[0, 0], [2, 0]]}]},
}


def test_centroids_of_simple_shapes():
    assert centroid(SHAPES["square"]) == {"type": "Point", "coordinates": [2.0, 2.0]}
    assert centroid(SHAPES["square-clockwise"]) == {"type": "Point", "coordinates": [2.0, 2.0]}
    # 16 - 4 of area: (16*2 - 4*1) / 12 on each axis.
    assert centroid(SHAPES["square-with-hole"])["coordinates"] == pytest.approx([28 / 12, 28 / 12])
    assert centroid(SHAPES["collection"]) == {"type": "Point", "coordinates": [2.0, 2.0]}
    assert centroid(SHAPES["lines-and-points"]) == {"type": "Point", "coordinates": [1.0, 0.0]}
    assert centroid({"type": "GeometryCollection", "geometries": []}) is None
    assert centroid(None) is None


@pytest.mark.parametrize("name", sorted(SHAPES))
def test_centroid_matches_postgis_st_centroid(pg_url, name):
    engine = make_engine(pg_url)
    try:
        with engine.connect() as conn:
            expected = json.loads(conn.scalar(text("SELECT ST_AsGeoJSON(ST_Centroid(ST_GeomFromGeoJSON(:g)), 15)"),
                                              {"g": json.dumps(SHAPES[name])}))
    finally:
        engine.dispose()
    assert centroid(SHAPES[name])["coordinates"] == pytest.approx(expected["coordinates"], abs=1e-9)


def test_parse_results_set_the_center_point_and_keep_the_ingest_data_types(db):
    workspace = make_workspace(db)
    source = make_file(db, workspace, file_name="scene.tif", data_type=["ingested", "feed-a"])
    job = new_job(db, make_job_type(db, name="parser"), data={
        "version": "1.0", "input_data": [{"name": "input_file", "file_id": source.id}], "output_data": []})
    footprint = {"type": "Feature", "properties": {}, "geometry": SHAPES["square-with-hole"]}
    record_parse_results(db, job, [ParsedInput(ParseResult("scene.tif", data_types=("feed-a", "parsed"),
                                                           geo_metadata=GeoMetadata(geo_json=footprint)))])
    db.expire_all()
    stored = db.get(ScaleFile, source.id)
    assert stored.data_type == ["ingested", "feed-a", "parsed"]
    assert stored.center_point["type"] == "Point"
    assert stored.center_point["coordinates"] == pytest.approx([28 / 12, 28 / 12])


def test_a_product_with_a_geometry_gets_its_center_point(db, tmp_path):
    exe = RunnerSetup(db, tmp_path).job(db, "true")
    made = tmp_path / "made.txt"
    made.write_text("product\n")
    line = {"type": "LineString", "coordinates": [[0, 0], [3, 0], [3, 1]]}
    [product] = store_products(db, exe, [CollectedOutput("out", False, (
        OutputFile(made, "made.txt", "text/plain", GeoMetadata(geo_json=line)),))])
    db.expire_all()
    stored = db.get(ScaleFile, product.id)
    assert stored.center_point == {"type": "Point", "coordinates": [pytest.approx(1.875), pytest.approx(0.125)]}
