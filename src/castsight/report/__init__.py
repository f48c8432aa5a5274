"""Reports: JSON Lines records, COCO predictions, HTML."""
