"""hdr: read handwritten amounts and account numbers on bank documents.

>>> from hdr.pipeline import read_document
>>> result = read_document("cheque.png")
>>> result.pages[0].fields["amount"].value
'1250.00'
"""

__version__ = "0.1.0"
