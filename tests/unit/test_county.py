"""The synthetic Dancheng county's geometry and identity: one tessellation,
townships of villages of grids, real names, codes marked when made up."""

import numpy as np
import pytest
import shapely

from fangkong_lib.config import COUNTY_CODE
from fangkong_lib.demo.county import TOWNSHIP_NAMES, build_county_geometry, township_specs

SEED = 20220407


@pytest.fixture(scope="module")
def geometry():
    return build_county_geometry(SEED)


@pytest.fixture(scope="module")
def specs(geometry):
    return township_specs(SEED, geometry)


def test_townships_tile_the_county_outline_without_gaps_or_overlaps(geometry, specs):
    assert shapely.is_valid(geometry.cells).all() and (shapely.get_type_id(geometry.cells) == 3).all()
    townships = [shapely.union_all(s["geometry"][1]) for s in specs]
    outline = geometry.outline
    county = shapely.union_all(townships)
    assert county.geom_type == "Polygon" and not county.interiors  # one piece, no holes
    # the same outline (up to the coordinates rounded to 6 decimals, about 0.1 m)
    assert shapely.symmetric_difference(county, outline).area < 1e-5 * outline.area
    assert abs(sum(t.area for t in townships) - county.area) < 1e-9 * county.area  # no overlaps
    km2 = outline.area * 111.32 * 110.574 * np.cos(np.radians(33.64))
    assert 1400 <= km2 <= 1600


def test_neighbouring_grids_share_edges_vertex_for_vertex(geometry):
    """No T-junctions: a vertex of one cell lying on another cell's boundary
    is a vertex of that cell too, so neighbours meet along whole edges."""
    cells = geometry.cells
    coords, owner = shapely.get_coordinates(cells, return_index=True)
    vertices = {(x, y) for x, y in coords}
    points = shapely.points(np.array(sorted(vertices)))
    tree = shapely.STRtree(shapely.boundary(cells))
    p, c = tree.query(points, predicate="dwithin", distance=1e-9)
    own = {(o, x, y) for o, (x, y) in zip(owner, coords)}
    xy = shapely.get_coordinates(points)
    missing = [(int(ci), tuple(xy[pi])) for pi, ci in zip(p, c) if (ci, *xy[pi]) not in own]
    assert not missing, missing[:5]
    # and every inner cell has neighbours along edges (a line in common), not just corners
    sample = range(0, len(cells), 97)
    for i in sample:
        neighbours = tree.query(cells[i], predicate="touches")
        shared = shapely.intersection(cells[i], cells[neighbours])
        assert max(shapely.length(shared)) > 0


def test_counts_and_names(geometry, specs):
    assert len(specs) == len(TOWNSHIP_NAMES) >= 19
    villages = [v for s in specs for v in s["village_names"]]
    assert 400 <= len(villages) <= 600 and len(set(villages)) == len(villages)
    assert 7_000 <= len(geometry.cells) <= 9_000
    assert all(18 <= len(s["village_names"]) <= 26 for s in specs)
    # a township's grids are its cells, villages numbered from 0 with none empty
    assert sum(len(s["geometry"][1]) for s in specs) == len(geometry.cells)
    for s in specs:
        assert {c.village for c in s["geometry"][0]} == set(range(len(s["village_names"])))
    assert 95_000 <= sum(s["n_away"] for s in specs) <= 105_000
    assert 19_000 <= sum(s["n_returnees"] for s in specs) <= 21_000


def test_only_chengjiao_has_a_real_code_and_the_others_are_marked_synthetic(specs):
    codes = {s["name"]: (s["code"], s["code_synthetic"]) for s in specs}
    assert codes["城郊乡"] == ("411625200", False)
    assert all(synthetic for name, (_, synthetic) in codes.items() if name != "城郊乡")
    assert len({c for c, _ in codes.values()}) == len(codes)
    assert all(c.startswith(COUNTY_CODE) and len(c) == 9 for c, _ in codes.values())
    # grid codes, place codes and ID numbers come from disjoint ranges
    assert len({s["grid_prefix"] for s in specs}) == len(specs)
    seqs = [set(s["id_seqs"]) for s in specs]
    assert sum(len(x) for x in seqs) == len(set().union(*seqs)) == 500
