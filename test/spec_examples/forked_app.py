"""The tutorial's pre-forking start-up sequence (spec lines 726-752), as a script.

``server.start(0)`` forks a process per CPU core, which cannot happen inside
pytest's process, so ``test_spec_examples.py`` runs this file in a process
group of its own, requests ``/`` a few times and kills the group.

    python forked_app.py PORT          # MOTOR_TEST_URI names the server

Changes from the spec: port 8888 is PORT; the handler also writes which
database it got and its process id, so that the test can see the children
serve with a client of their own; "localhost:27017" is the test server (the
spec's examples assume MongoDB there).
"""

import os
import sys

import pymongo
import tornado.httpserver
import tornado.ioloop
import tornado.web

import motor

PORT = int(sys.argv[1])
pymongo.MongoClient.HOST = os.environ["MOTOR_TEST_URI"]  # the examples' "localhost:27017"


# Spec lines 726-728.
class MainHandler(tornado.web.RequestHandler):
    def get(self):
        db = self.settings['db']
        self.write("%s %d" % (db.name, os.getpid()))  # added: what the test checks


# Spec lines 738-752.
application = tornado.web.Application([
    (r'/', MainHandler)
])

server = tornado.httpserver.HTTPServer(application)
server.bind(PORT)  # spec: server.bind(8888)

# start(0) starts a subprocess for each CPU core
server.start(0)

db = motor.MotorClient().open_sync().test_database

# Delayed initialization of settings
application.settings['db'] = db
tornado.ioloop.IOLoop.instance().start()
