# Installed by reprotrack into <sys.prefix>/etc/ipython/startup/: registers the %reprotrack magic in every
# IPython kernel and terminal shell of this environment, so no `%load_ext reprotrack` is needed.
# It only registers the magic (tracking starts with `%reprotrack start`), prints nothing, never raises (a
# failing startup file makes IPython skip the startup files after it) and leaves no names in the user's
# namespace. Opt out with REPROTRACK_AUTOLOAD=0. See reprotrack/startup.py and jupyter-config/README.md.
def _reprotrack_autoload():
    try:
        from reprotrack.startup import autoload

        autoload()
    except BaseException:  # noqa: BLE001 - even SystemExit/KeyboardInterrupt must not skip later files
        pass


_reprotrack_autoload()
del _reprotrack_autoload
