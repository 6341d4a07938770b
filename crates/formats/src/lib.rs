//! Readers and writers for the file formats Voltex exchanges. Pure parsing: a
//! reader takes text and returns model types or an error that points at the
//! place in the text; nothing here touches the store or the network.
pub mod datadir;
pub mod declaration_io;
pub mod efile;
pub mod matpower;
pub mod simbench;
