// Loaded before @oclif/core: oclif reads the error width once, at import. Wide enough that
// wrapped error lines do not split the phrases the tests look for.
process.env.OCLIF_COLUMNS = '400';
export {};
