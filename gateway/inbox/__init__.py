"""The shared inbox: conversation lists, threads, agents' actions, and the contact book.

`records` holds the values (no storage imports, so storage can return them), `policy` the
pure rules, `service.InboxService` and `contacts.ContactsService` what the web layer calls.
"""
