"""Names vulture cannot see used: nameko, falcon, gunicorn and prometheus call them by reflection.

Read by vulture only (`[tool.vulture]` in pyproject.toml); never imported. Add a name here only when
a framework calls it by name: anything else vulture reports is dead code, to be deleted.
"""
# ruff: noqa
_ = object

# falcon: a resource's responders, a middleware's hooks (and their arguments, named by its interface),
# and the attributes of its request options and responses
_.on_get, _.on_post, _.on_put, _.on_patch, _.on_delete
_.process_request, _.process_resource, _.process_response, _.req_succeeded
_.obj_type  # HTTPError.to_dict's argument
_.strip_url_path_trailing_slash, _.media_handlers, _.cache_control, _.downloadable_as, _.etag, _.vary
_.complete  # a middleware that answered itself: falcon skips the responder

# gunicorn: `wsgi_app = "gateway.app:create_app()"` in gateway/gunicorn_conf.py
_.create_app

# nameko: `nameko run` finds the service classes in their modules; extensions' and dependencies'
# hooks, the attributes nameko's classes read, and the dependencies a service class declares
_.EnrolmentService, _.VenuesService, _.WelfareService, _.NotifyService, _.GatewayFeed
_.get_dependency, _.worker_setup, _.worker_result, _.worker_teardown, _.handle_result
_.use_confirms, _.delivery_mode, _.publisher_cls
_.dispatcher, _.rpc_reply_listener, _.context_data, _.retention  # nameko dependencies that run loops
_.sealing_key, _.reset_code_key  # welfare's and notify's keys, checked as they start

# prometheus_client: a registered collector's collect()
_.collect

# marshmallow: a field's _serialize, the attributes it reads of a field, a Method field's method by
# its name, the envelope's fields (the fields of schemas.py modules: see scripts/lint), a schema's Meta
_._serialize, _.load_default, _.required, _.rules_out, _.Meta
_.occurred_at
_.figure_title, _.period_from, _.period_to  # the report's schema fields (gateway/routes/reports.py)
