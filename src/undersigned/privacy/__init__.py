"""What the platform keeps about one email address: collected for its owner, erased on
request, and erased from letters after their campaign closed (retention).

Above every data app (it reads and erases across them) and below the audience apps,
which give it a page and the worker's housekeeping.
"""
