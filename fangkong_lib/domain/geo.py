"""Geometry helpers: ledger frames to GeoDataFrames (WGS-84)."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import shapely

CRS = "EPSG:4326"


def to_geodataframe(frame: pd.DataFrame, *, geometry: str = "geometry") -> gpd.GeoDataFrame:
    """A GeoDataFrame from a ledger frame whose ``geometry`` column is WKT.

    Rows without geometry are kept with an empty geometry.
    """
    # A list, not a Series: Series.where(..., None) fills NaN, which
    # from_wkt rejects (rows imported from a template have no boundary).
    wkt = [text if isinstance(text, str) and text.strip() else None for text in frame[geometry]]
    geoms = shapely.from_wkt(wkt) if len(wkt) else []
    return gpd.GeoDataFrame(frame.drop(columns=[geometry]), geometry=geoms, crs=CRS)


def points_from_lonlat(frame: pd.DataFrame, lon: str = "lon", lat: str = "lat") -> gpd.GeoDataFrame:
    """A point GeoDataFrame from longitude/latitude columns (rows without
    coordinates are dropped)."""
    ok = frame[lon].notna() & frame[lat].notna()
    sub = frame[ok]
    return gpd.GeoDataFrame(sub, geometry=gpd.points_from_xy(sub[lon], sub[lat]), crs=CRS)
