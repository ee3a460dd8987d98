"""Downloadable public lists (top sites, threat feeds, categories): the catalog, ``update`` and
``installed``. Nothing here touches the network except :func:`update`."""

from netsift.lists.catalog import CATALOG, ListSpec
from netsift.lists.download import InstalledList, UpdateResult, data_dir, installed, list_path, update
from netsift.lists.unpack import ListError

__all__ = ["CATALOG", "InstalledList", "ListError", "ListSpec", "UpdateResult", "data_dir", "installed",
           "list_path", "update"]
