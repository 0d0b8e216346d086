DROP TABLE offer_declines;
