"""The operator's commands: ``undersigned worker``, ``import``, ``export``, ``demo``, ``print``, ``inbound``.

An audience app like ``public`` and ``dashboard``, for the command line: it sits above
every data app, so a command that spans apps (the worker's housekeeping touches
delivery, open letters and discussions; import and export read and write campaigns and
open letters) imports them at module level without any data app importing another one
upwards. Commands translate arguments into calls to the data apps' services.
"""
