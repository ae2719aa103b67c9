"""The moto server, answering one request at a time.

moto's own `moto_server` serves each request on its own thread, but its backends are not
thread-safe: concurrent IoT calls fail with `RuntimeError: OrderedDict mutated during
iteration` (a 500 the client cannot tell from a real fault). This launcher runs the same
application behind one lock, so requests are accepted concurrently (keep-alive, many
connections) and executed one after another, as a single AWS backend partition would
never fail. Listens on 127.0.0.1 only.

    python moto_server_serial.py -p PORT
"""

import argparse
import os
import threading

from werkzeug.serving import run_simple

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, required=True)
    args = parser.parse_args()
    os.environ.setdefault("MOTO_PORT", str(args.port))

    app = DomainDispatcherApplication(create_backend_app)
    app.debug = True  # type: ignore[attr-defined]
    lock = threading.Lock()

    def serial(environ, start_response):  # type: ignore[no-untyped-def]
        with lock:
            # Materialise the body under the lock: moto builds it from live state.
            return list(app(environ, start_response))

    run_simple(
        args.host,
        args.port,
        serial,
        threaded=True,
        request_handler=MotoRequestHandler,
    )


if __name__ == "__main__":
    main()
