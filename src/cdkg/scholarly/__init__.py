"""What scholars read beyond SPARQL: the claims audit, the Wikidata diff, entity pages, the map."""
