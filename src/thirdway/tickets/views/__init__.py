"""The desk: queues, search, new tickets, the ticket page and its actions.

For the network only (client contacts have the portal; to anyone else these pages do not
exist), except the attachment download, which serves whoever ``Attachment.objects.for_user``
lets see the file.  Actions answer htmx with the fragment they changed and fall back to a
redirect with a message.
"""
