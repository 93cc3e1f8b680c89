"""Tests across the API's endpoints rather than of one room: who sees and changes what, bad input,
query counts of the lists, the OpenAPI document and the contract every answer keeps."""
